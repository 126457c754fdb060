/** One core of perCoreHandlerRates (handler-rate.ts): a process pinned by taskset prints its handler rate. */
import { handlerRate } from '../stress/modes/heavy.js';

process.stdout.write(`${handlerRate(Number(process.argv[2] ?? 1))}\n`);

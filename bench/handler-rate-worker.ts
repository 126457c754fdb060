/** One thread of concurrentHandlerRate (handler-rate.ts): waits for the start, then measures. */
import { parentPort, workerData } from 'node:worker_threads';
import { handlerRate } from '../stress/modes/heavy.js';
import type { HandlerRateInit } from './handler-rate.js';

const { go, seed } = workerData as HandlerRateInit;
Atomics.wait(new Int32Array(go), 0, 0);
parentPort!.postMessage(handlerRate(seed));

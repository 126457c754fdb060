/**
 * One thread of concurrentHandlerRate (handler-rate.ts): warms the handler up, says it is
 * ready, waits for the start, then runs the handler back to back until told to stop and
 * posts how many it ran.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HandlerLoop } from '../stress/modes/heavy.js';
import { HR_GO, HR_READY, HR_STOP, type HandlerRateInit } from './handler-rate.js';

const { flags, seed } = workerData as HandlerRateInit;
const f = new Int32Array(flags);
const loop = new HandlerLoop(seed);
loop.run(0, 4000);
Atomics.add(f, HR_READY, 1);
Atomics.wait(f, HR_GO, 0);
let n = 0;
while (Atomics.load(f, HR_STOP) === 0) {
  loop.run(n, 16);
  n += 16;
}
parentPort!.postMessage(n);

/**
 * One thread of concurrentHandlerRate (handler-rate.ts): warms the handler up, says it is
 * ready, waits for the start, then runs the handler back to back until told to stop and
 * posts how many it ran.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { computeHeavyKind } from '../engine/builtin-kinds.js';
import { HEAVY_ITERATIONS } from '../stress/modes/heavy.js';
import { HR_GO, HR_READY, HR_STOP, type HandlerRateInit } from './handler-rate.js';

const { flags, seed } = workerData as HandlerRateInit;
const f = new Int32Array(flags);
const params = new Float64Array([seed | 0, HEAVY_ITERATIONS]);
const out = new Float64Array(1);
const ctx = null as never;
for (let i = 0; i < 4000; i++) {
  params[0] = (seed + i) | 0;
  computeHeavyKind.run(params, out, ctx);
}
Atomics.add(f, HR_READY, 1);
Atomics.wait(f, HR_GO, 0);
let n = 0;
while (Atomics.load(f, HR_STOP) === 0) {
  for (let i = 0; i < 16; i++, n++) {
    params[0] = (seed + n) | 0;
    computeHeavyKind.run(params, out, ctx);
  }
}
parentPort!.postMessage(n);

/**
 * The worker side of the bare ring (bare-ring.ts): takes two-number jobs off a
 * SharedArrayBuffer ring, writes their sum to a result ring, publishes every batch. No
 * slots, no validation, no accounting, no sleeping within a run: the ceiling for moving
 * tiny jobs between two threads.
 */
import { workerData } from 'node:worker_threads';
import { BARE, type BareInit } from './bare-ring.js';

const { sab, capacity } = workerData as BareInit;
const ctl = new Int32Array(sab, 0, BARE.CONTROL_WORDS);
const jobs = new Float64Array(sab, BARE.CONTROL_BYTES, capacity * 2);
const results = new Float64Array(sab, BARE.CONTROL_BYTES + capacity * 16, capacity);
const mask = capacity - 1;
let head = 0;
let resTail = 0;
for (;;) {
  // Between runs: asleep until the main thread starts the next (or stops the ring).
  Atomics.wait(ctl, BARE.GO, 0);
  if (Atomics.load(ctl, BARE.STOP) !== 0) break;
  while (Atomics.load(ctl, BARE.GO) === 1) {
    // ORDERING: acquire load of the job tail; the main thread stored it after the records.
    const tail = Atomics.load(ctl, BARE.JOB_TAIL);
    if (tail === head) continue;
    // The result ring is as big as the job ring and main never has more than `capacity`
    // jobs out, so there is always room for these results.
    while (head !== tail) {
      const j = (head & mask) * 2;
      results[resTail & mask] = jobs[j] + jobs[j + 1];
      head = (head + 1) | 0;
      resTail = (resTail + 1) | 0;
    }
    // ORDERING: results before their tail; the job head after the records were read.
    Atomics.store(ctl, BARE.RES_TAIL, resTail);
    Atomics.store(ctl, BARE.JOB_HEAD, head);
  }
}

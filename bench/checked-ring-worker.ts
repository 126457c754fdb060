/**
 * The worker side of the checked ring (checked-ring.ts): claims each job's slot word by
 * CAS (QUEUED -> RUNNING, as the engine's workers do, so a job is run at most once),
 * writes the sum with the slot and generation to the result ring, publishes every batch.
 */
import { workerData } from 'node:worker_threads';
import { CHECKED, JOB_F64, RES_F64, SLOT_QUEUED, SLOT_RUNNING, STATE_BITS, checkedLayout, type CheckedInit } from './checked-ring.js';

const { sab, capacity } = workerData as CheckedInit;
const l = checkedLayout(capacity);
const ctl = new Int32Array(sab, 0, CHECKED.CONTROL_BYTES / 4);
const jobF64 = new Float64Array(sab, l.jobs, capacity * JOB_F64);
const jobI32 = new Int32Array(sab, l.jobs, capacity * JOB_F64 * 2);
const resF64 = new Float64Array(sab, l.results, capacity * RES_F64);
const resI32 = new Int32Array(sab, l.results, capacity * RES_F64 * 2);
const words = new Int32Array(sab, l.slots, capacity);
const mask = capacity - 1;
let head = 0;
let resTail = 0;
while (Atomics.load(ctl, CHECKED.STOP) === 0) {
  // ORDERING: acquire load of the job tail; the main thread stored it after the records.
  const tail = Atomics.load(ctl, CHECKED.JOB_TAIL);
  if (tail === head) continue;
  while (head !== tail) {
    const j = (head & mask) * JOB_F64;
    const slot = jobI32[j * 2];
    const gen = jobI32[j * 2 + 1];
    head = (head + 1) | 0;
    const queued = (gen << STATE_BITS) | SLOT_QUEUED;
    if (Atomics.compareExchange(words, slot, queued, (gen << STATE_BITS) | SLOT_RUNNING) !== queued) continue;
    // There is always room: main never has more jobs out than the result ring holds.
    const r = (resTail & mask) * RES_F64;
    resI32[r * 2] = slot;
    resI32[r * 2 + 1] = gen;
    resF64[r + 1] = jobF64[j + 1] + jobF64[j + 2];
    resTail = (resTail + 1) | 0;
  }
  // ORDERING: results before their tail. (Main reuses a job record only after its
  // result came back, so no head is published.)
  Atomics.store(ctl, CHECKED.RES_TAIL, resTail);
}

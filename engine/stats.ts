/**
 * The stats snapshot: the books' counters plus what the shared memory says now about
 * queues, result rings and latency. Allocates: per frame at most, never per job.
 *
 * Main thread only.
 */
import type { EngineStats } from './api.js';
import type { Books } from './books.js';
import { HIST_BUCKETS, JOB_HEAD_I, W_JOBS_DONE, W_JOBS_FAILED, histogramBoundUs, type Layout } from './layout.js';
import { rejectionName } from './outcome.js';
import type { WorkerLink } from './worker-link.js';

export function statsOf(books: Books, workers: readonly WorkerLink[], layout: Layout, arenaUsed: number, threadsBatched: boolean, wakes: Float64Array): EngineStats {
  const counts = new Array<number>(HIST_BUCKETS).fill(0);
  let queueOcc = 0;
  let resOcc = 0;
  const perWorker = workers.map((w) => {
    for (let b = 0; b < HIST_BUCKETS; b++) counts[b] += Atomics.load(w.block.hist, b);
    const q = (w.jobs.tail - Atomics.load(w.block.i32, JOB_HEAD_I)) | 0;
    queueOcc += q;
    resOcc += w.results.occupancy;
    return {
      index: w.index,
      jobsProcessed: Atomics.load(w.block.i32, W_JOBS_DONE),
      jobsFailed: Atomics.load(w.block.i32, W_JOBS_FAILED),
      respawns: w.respawns,
      queued: q,
    };
  });
  const rejectedByReason: Record<string, number> = {};
  for (let i = 1; i < books.rejectedBy.length; i++) if (books.rejectedBy[i] > 0) rejectedByReason[rejectionName(-i)] = books.rejectedBy[i];
  const cap = layout.ringCapacity * perWorker.length;
  return {
    submitted: books.submitted,
    completed: books.completed,
    failed: books.failed,
    rejected: books.rejected,
    rejectedByReason,
    expired: books.expired,
    cancelled: books.cancelled,
    inFlight: books.inFlight,
    queueOccupancy: queueOcc,
    queueCapacity: cap,
    resultOccupancy: resOcc,
    resultCapacity: cap,
    workers: perWorker,
    respawns: books.respawns,
    latency: { boundsUs: counts.map((_, b) => histogramBoundUs(b)), counts },
    sharedBytes: layout.totalBytes,
    arenaBytesUsed: arenaUsed,
    arenaBytes: layout.arenaBytes,
    threadsBatched,
    wakes: { count: wakes[0], ms: wakes[1], maxMs: wakes[2], slow: wakes[3] },
  };
}

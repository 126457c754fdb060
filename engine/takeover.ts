/**
 * Cancel and take-over: ending a job from the main thread before a worker has its
 * result. Both race the worker's claim on the job's slot word, and one CAS decides.
 *
 * Main thread only.
 */
import type { ArenaAllocator } from './arena.js';
import type { Books } from './books.js';
import type { Collector, OnResult } from './collector.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobTable } from './job-table.js';
import type { KindRuntime } from './kind-runtime.js';
import { S_CANCELLED, S_QUEUED, S_RUNNING, S_TAKEN, S_WAITING } from './layout.js';
import { Outcome } from './outcome.js';
import type { Waiting } from './waiting.js';

export class TakeOver {
  private readonly jobs: JobTable;
  private readonly dispatcher: Dispatcher;
  private readonly collector: Collector;
  private readonly books: Books;
  private readonly waiting: Waiting;
  private readonly arena: ArenaAllocator;
  private readonly arenaU8: Uint8Array;
  /** Per slot: the arena copy a twin ran in while a worker runs the original, or -1 (see runInline). */
  private readonly copies: Int32Array;

  constructor(jobs: JobTable, dispatcher: Dispatcher, collector: Collector, books: Books, waiting: Waiting, arena: ArenaAllocator, arenaU8: Uint8Array) {
    this.jobs = jobs;
    this.dispatcher = dispatcher;
    this.collector = collector;
    this.books = books;
    this.waiting = waiting;
    this.arena = arena;
    this.arenaU8 = arenaU8;
    this.copies = new Int32Array(jobs.capacity).fill(-1);
  }

  /** Cancels a job that has not started: true if it was (its outcome), false if it had started or ended. */
  cancel(jobId: number): boolean {
    const t = this.jobs;
    const slot = t.slotOf(jobId);
    // Taken: its outcome was delivered already. Lost: its failure is decided and on its way.
    if (slot < 0 || t.taken[slot] === 1 || t.lost[slot] === 1 || !t.tryUnqueue(slot, S_CANCELLED)) return false;
    this.dispatcher.unqueue(slot);
    this.books.end(slot, Outcome.Cancelled);
    t.release(slot);
    return true;
  }

  /**
   * Runs job `jobId` on this thread now if it has no outcome yet (see EngineCore.runInline).
   * A job still queued (or waiting for nothing but its lane) is taken from the workers; one
   * a worker is running gets a twin here, in a private copy of its arena slice, and the
   * worker's later result is dropped. A job whose result is already published is left to
   * poll (false). A job still waiting for prerequisites cannot run.
   */
  runInline(jobId: number, kinds: readonly KindRuntime[], onResult: OnResult): boolean {
    const t = this.jobs;
    const slot = t.slotOf(jobId);
    if (slot < 0 || t.taken[slot] === 1 || t.lost[slot] === 1) return false;
    const gen = t.gen(slot);
    const rt = kinds[t.kind[slot]];
    const st = t.state(slot);
    if ((st === S_QUEUED || (st === S_WAITING && this.waiting.waitingOn(slot) === 0)) && t.tryUnqueue(slot, S_TAKEN)) {
      this.dispatcher.unqueue(slot);
      try {
        this.collector.runOnMain(rt, slot, gen, t.arenaOffset[slot], onResult);
      } finally {
        t.release(slot);
      }
      return true;
    }
    if (t.state(slot) !== S_RUNNING) return false;
    // Ended on its worker, its result waiting for poll: that result is its one outcome.
    if (this.collector.hasWaitingResult(slot, gen)) return false;
    // The worker may be writing the original slice right now: the twin runs in a copy. The
    // copy is kept until the worker is done with the original (takenEnded), then written
    // over it, and only then do the job's dependents, which read the slice in place, go on:
    // they read what was delivered, never a slice a worker is still writing.
    const off = t.arenaOffset[slot];
    let copy = -1;
    if (off >= 0) {
      const bytes = t.arenaBytes[slot];
      copy = this.arena.alloc(bytes);
      if (copy < 0) return false;
      this.arenaU8.copyWithin(copy, off, off + bytes);
      this.copies[slot] = copy;
      this.waiting.holdEnd(slot);
    }
    t.taken[slot] = 1;
    this.collector.runOnMain(rt, slot, gen, copy >= 0 ? copy : off, onResult);
    return true;
  }

  /**
   * Collector.onTakenEnded: no worker runs the job in `slot` any more (its result came in
   * and is dropped, or its worker is gone). A twin's slice replaces the original, and the
   * job's dependents hear its outcome.
   */
  takenEnded(slot: number): void {
    const copy = this.copies[slot];
    if (copy < 0) return;
    this.copies[slot] = -1;
    const t = this.jobs;
    const off = t.arenaOffset[slot];
    this.arenaU8.copyWithin(off, copy, copy + t.arenaBytes[slot]);
    this.arena.free(copy);
    this.waiting.releaseEnd(slot);
  }
}

/**
 * Jobs held in main's hands instead of going straight to a worker: jobs with
 * prerequisites (SubmitOptions.after) until those have ended, and background-lane jobs
 * until a worker is free for them. Reads and checks `after` at submit, links the job to
 * its prerequisites (deps.ts), and hands it to the dispatcher's waiting queue once it is
 * ready, or fails it `dependency-failed`.
 *
 * Jobs submitted without `after` and in the frame lane never come here.
 *
 * Main thread only.
 */
import type { Collector } from './collector.js';
import { Deps } from './deps.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobTable } from './job-table.js';
import { MAX_AFTER } from './job-table.js';
import { S_TAKEN, STATE_BITS } from './layout.js';
import { Outcome } from './outcome.js';

export class Waiting {
  private readonly jobs: JobTable;
  private readonly dispatcher: Dispatcher;
  private readonly collector: Collector;
  /** Made the first time a job names a prerequisite. */
  private deps: Deps | null = null;
  /** The prerequisite slots read by the last readAfter. */
  private readonly after = new Int32Array(MAX_AFTER);
  private afterCount = 0;

  /** Called once, when the first job names a prerequisite: from then on `ended` must hear of every outcome. */
  private readonly activate: () => void;
  /**
   * Per slot: 1 while the job's outcome (a twin's, run by runInline) is delivered but a
   * worker may still be writing the original's arena slice. Its dependents wait for that
   * worker (releaseEnd), since they read the slice in place.
   */
  private readonly endHeld: Uint8Array;

  constructor(jobs: JobTable, dispatcher: Dispatcher, collector: Collector, activate: () => void) {
    this.jobs = jobs;
    this.dispatcher = dispatcher;
    this.collector = collector;
    this.activate = activate;
    this.endHeld = new Uint8Array(jobs.capacity);
  }

  /**
   * Reads `after` (a job id or up to MAX_AFTER of them, each read once) into the slots
   * of live jobs of this engine. Returns how many, or -1 for anything else: a value that
   * is not the id of a job whose outcome has not been delivered, too many, or a read
   * that threw.
   */
  readAfter(after: unknown): number {
    const out = this.after;
    this.afterCount = 0;
    try {
      if (typeof after === 'number') {
        const slot = this.jobs.slotOf(after);
        if (slot < 0) return -1;
        out[0] = slot;
        return (this.afterCount = 1);
      }
      if (after === null || typeof after !== 'object') return -1;
      const n = (after as ArrayLike<unknown>).length;
      if (typeof n !== 'number' || !(n >= 0) || n > MAX_AFTER || (n | 0) !== n) return -1;
      for (let k = 0; k < n; k++) {
        const slot = this.jobs.slotOf((after as ArrayLike<unknown>)[k]);
        if (slot < 0) return -1;
        out[k] = slot;
      }
      return (this.afterCount = n);
    } catch {
      return -1;
    }
  }

  /** True when `off` is the arena slice of one of the last readAfter's prerequisites. */
  readonly isPrereqSlice = (off: number): boolean => {
    for (let k = 0; k < this.afterCount; k++) if (this.jobs.arenaOffset[this.after[k]] === off) return true;
    return false;
  };

  /**
   * Holds the just-opened, already admitted job in `slot`: links it to the `count`
   * prerequisites of the last readAfter, keeps their arena slices for it, and queues it
   * for dispatch once nothing is left to wait for.
   */
  hold(slot: number, lane: number, count: number): void {
    const t = this.jobs;
    t.lane[slot] = lane;
    t.hold(slot);
    if (count === 0) {
      this.dispatcher.enqueue(slot);
      return;
    }
    if (this.deps === null) {
      this.deps = new Deps(
        t,
        (s) => this.dispatcher.enqueue(s),
        (s) => this.fail(s),
      );
      this.activate();
    }
    const deps = this.deps;
    deps.begin(slot);
    for (let k = 0; k < count; k++) {
      const pre = this.after[k];
      // Kept for the dependent, unless it is the dependent's own payload (held already).
      const off = t.arenaOffset[pre];
      if (off >= 0 && off !== t.arenaOffset[slot]) t.retain(slot, off);
      const ended = t.outcome[pre];
      // A prerequisite counted but not yet delivered (its callback is running) has ended;
      // one whose twin ran inline has not, for its dependents, until its worker is done.
      if (ended === 0 || this.endHeld[pre] === 1) deps.link(slot, k, pre);
      else if (ended !== Outcome.Done) deps.breakNow(slot);
    }
    deps.decide(slot);
  }

  /** A dependent whose prerequisite did not end done: it fails without running. */
  private fail(slot: number): void {
    const t = this.jobs;
    // TAKEN: main owns it; no cancel, take-over or worker can touch it any more.
    t.words[slot] = (t.gen(slot) << STATE_BITS) | S_TAKEN;
    this.collector.queueLost(slot, 'dependency-failed');
  }

  /** A job's outcome, as it is counted (Books records it in JobTable.outcome): passed on to its dependents. */
  ended(slot: number, outcome: Outcome): void {
    if (this.endHeld[slot] === 1) return;
    if (this.deps !== null) this.deps.settle(slot, outcome);
  }

  /** The job in `slot` is about to end by a twin while a worker still runs it: its dependents wait (releaseEnd). */
  holdEnd(slot: number): void {
    this.endHeld[slot] = 1;
  }

  /** The worker that ran the job in `slot` is done with it: its dependents hear its outcome now. */
  releaseEnd(slot: number): void {
    if (this.endHeld[slot] === 0) return;
    this.endHeld[slot] = 0;
    if (this.deps !== null) this.deps.settle(slot, this.jobs.outcome[slot] as Outcome);
  }

  /** Prerequisites the job in `slot` still waits for. */
  waitingOn(slot: number): number {
    return this.deps === null ? 0 : this.deps.waitingOn(slot);
  }
}

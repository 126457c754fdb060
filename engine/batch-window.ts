/**
 * A batch's window: `size` positions, each holding one task from submit until its outcome
 * is handed to the caller. The job's tag is its position, so a result finds its task
 * without a lookup. The window decides which position a task takes and the order
 * outcomes leave in; the batch (batch.ts) decides when to submit and what to report.
 *
 *     index:   head ............................ next
 *              |  done | flight | done | flight |  (not submitted yet)
 *     ordered: position = index % size; a task may take its position only while
 *              index - head < size, so a slow task holds back at most `size` results.
 *     unordered: positions come from a free list and go back to it once handed over;
 *              finished positions queue in the order they finished.
 *
 * Every array is allocated here, once; nothing per task.
 */
import type { BatchFailReason } from './batch-types.js';
import type { JobError } from './errors.js';

/** A position's state. */
export const EMPTY = 0;
export const FLIGHT = 1;
export const DONE = 2;
export const FAILED = 3;
export const CANCELLED = 4;
/** Ordered only: a task the caller's skip() passed over, delivered as nothing in its turn. */
export const SKIPPED = 5;
/** Failed with worker-lost, to be submitted again. */
export const RETRY = 6;

export class BatchWindow {
  readonly size: number;
  readonly ordered: boolean;
  readonly state: Uint8Array;
  /** The engine's job id while FLIGHT, else -1. */
  readonly jobId: Int32Array;
  readonly taskIndex: Int32Array;
  readonly attempts: Uint8Array;
  /** The worker that ran the last attempt, -1 for none. */
  readonly worker: Int16Array;
  /** Each position's result values: views over one array, `nResults` doubles each. */
  readonly values: Float64Array[];
  readonly reason: (BatchFailReason | null)[];
  readonly error: (JobError | null)[];
  /** Ordered: the lowest task index not yet handed over (or skipped). */
  head = 0;
  /** Unordered: positions finished and not yet handed over. */
  finCount = 0;
  private readonly nResults: number;
  private readonly free: Int32Array;
  private freeTop = 0;
  private readonly finished: Int32Array;
  private finHead = 0;

  constructor(size: number, ordered: boolean, nResults: number) {
    this.size = size;
    this.ordered = ordered;
    this.nResults = nResults;
    this.state = new Uint8Array(size);
    this.jobId = new Int32Array(size).fill(-1);
    this.taskIndex = new Int32Array(size);
    this.attempts = new Uint8Array(size);
    this.worker = new Int16Array(size);
    const all = new Float64Array(size * Math.max(1, nResults));
    this.values = [];
    for (let p = 0; p < size; p++) this.values.push(all.subarray(p * nResults, (p + 1) * nResults));
    this.reason = new Array<BatchFailReason | null>(size).fill(null);
    this.error = new Array<JobError | null>(size).fill(null);
    this.free = new Int32Array(ordered ? 0 : size);
    this.finished = new Int32Array(ordered ? 0 : size);
    if (!ordered) {
      for (let p = size - 1; p >= 0; p--) this.free[this.freeTop++] = p;
    }
  }

  /** The position task `index` would take, or -1 while the window has no room for it. Takes nothing. */
  positionFor(index: number): number {
    if (this.ordered) return index - this.head >= this.size ? -1 : index % this.size;
    return this.freeTop === 0 ? -1 : this.free[this.freeTop - 1];
  }

  /** Task `index` is about to be tried at position p (from positionFor): no attempts yet. */
  assign(p: number, index: number): void {
    this.taskIndex[p] = index;
    this.attempts[p] = 0;
  }

  /** The position positionFor gave is the assigned task's until it is handed over. */
  take(): void {
    if (!this.ordered) this.freeTop--;
  }

  /** Task `index` was skipped at position p (from positionFor, not taken). */
  skip(p: number, index: number): void {
    if (!this.ordered) return;
    if (index === this.head) this.head++;
    else this.state[p] = SKIPPED;
  }

  /** Job `id` now runs position p's task. */
  launched(p: number, id: number): void {
    this.state[p] = FLIGHT;
    this.jobId[p] = id;
    this.worker[p] = -1;
    this.attempts[p]++;
  }

  /** Keeps the first values of a done job's result, at most the kind's result count. */
  keepValues(p: number, values: Float64Array, count: number): void {
    const v = this.values[p];
    const n = this.nResults < count ? this.nResults : count;
    for (let i = 0; i < n; i++) v[i] = values[i];
  }

  /** Position p's task has its outcome: it waits to be handed over. */
  finish(p: number, st: number, reason: BatchFailReason | null, error: JobError | null): void {
    this.state[p] = st;
    this.reason[p] = reason;
    this.error[p] = error;
    if (!this.ordered) {
      this.finished[(this.finHead + this.finCount) % this.size] = p;
      this.finCount++;
    }
  }

  /**
   * The next position whose outcome is due to the caller, or -1: ordered, the task at
   * `head` once it has its outcome (tasks below `next` only); unordered, in finishing order.
   */
  nextDue(next: number): number {
    if (!this.ordered) {
      if (this.finCount === 0) return -1;
      const p = this.finished[this.finHead];
      this.finHead = (this.finHead + 1) % this.size;
      this.finCount--;
      return p;
    }
    while (this.head < next) {
      const p = this.head % this.size;
      const st = this.state[p];
      if (st === SKIPPED) {
        this.state[p] = EMPTY;
        this.head++;
        continue;
      }
      if (st !== DONE && st !== FAILED && st !== CANCELLED) return -1;
      this.head++;
      return p;
    }
    return -1;
  }

  /** Position p's outcome is being handed over: empty it (before the caller's callback runs). */
  clear(p: number): void {
    this.state[p] = EMPTY;
    this.reason[p] = null;
    this.error[p] = null;
  }

  /** After the hand-over: an unordered position goes back on the free list. */
  recycle(p: number): void {
    if (!this.ordered) this.free[this.freeTop++] = p;
  }

  /** No outcome waits to be handed over for tasks before `total`. */
  drained(total: number): boolean {
    return this.ordered ? this.head >= total : this.finCount === 0;
  }
}

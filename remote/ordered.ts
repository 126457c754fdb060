/**
 * Results in input order through a bounded reorder window. Backends put results as they
 * finish, in any order; `flush` hands them to the caller strictly by index, each index
 * once. A result for an index already delivered (or already waiting) is a duplicate:
 * counted, never applied. The window bounds memory: a backend admits task i only while
 * i < next + window, so at most `window` results ever wait here.
 *
 * Main-thread only; not re-entrant: onResult and onProgress may not call put or flush.
 */
import type { TaskResult } from './types.js';

const SKIPPED: TaskResult = Object.freeze({ status: 'failed', values: [], reason: 'skipped' });

export class OrderedDelivery {
  readonly count: number;
  readonly window: number;
  completed = 0;
  failed = 0;
  skipped = 0;
  duplicates = 0;
  private nextIndex = 0;
  private readonly waiting = new Map<number, TaskResult>();
  private flushing = false;
  private stopped = false;
  private reported = -1;

  constructor(
    count: number,
    window: number,
    private readonly onResult: (i: number, r: TaskResult) => void,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {
    this.count = count;
    this.window = Math.max(1, window);
  }

  /** Every index below this has been delivered or skipped. */
  get next(): number {
    return this.nextIndex;
  }

  get done(): boolean {
    return this.nextIndex >= this.count;
  }

  /** Results held back because an earlier index has not arrived yet. */
  get held(): number {
    return this.waiting.size;
  }

  /** True while index i fits the reorder window. */
  admits(i: number): boolean {
    return i < this.nextIndex + this.window;
  }

  /** Records a result. Returns false (and counts a duplicate) if index i already has one. */
  put(i: number, r: TaskResult): boolean {
    if (i < this.nextIndex || this.waiting.has(i) || i >= this.count || i < 0) {
      this.duplicates++;
      return false;
    }
    this.waiting.set(i, r);
    return true;
  }

  /** Marks index i as skipped (resume): it is passed over in order, with no onResult. */
  skip(i: number): void {
    if (i >= this.nextIndex && !this.waiting.has(i)) this.waiting.set(i, SKIPPED);
  }

  /** Ends delivery: no onResult after this, even mid-flush (the batch failed or was aborted). */
  stop(): void {
    this.stopped = true;
  }

  /** Delivers every result that is next in order. Returns how many indices it passed. */
  flush(): number {
    if (this.flushing || this.stopped) return 0;
    this.flushing = true;
    const start = this.nextIndex;
    try {
      while (!this.stopped) {
        const r = this.waiting.get(this.nextIndex);
        if (r === undefined) break;
        this.waiting.delete(this.nextIndex);
        const i = this.nextIndex++;
        if (r === SKIPPED) {
          this.skipped++;
          continue;
        }
        if (r.status === 'done') this.completed++;
        else this.failed++;
        this.onResult(i, r);
        this.reported = this.nextIndex;
        this.onProgress?.(this.nextIndex, this.count);
      }
      if (this.reported !== this.nextIndex) {
        this.reported = this.nextIndex;
        this.onProgress?.(this.nextIndex, this.count);
      }
    } finally {
      this.flushing = false;
    }
    return this.nextIndex - start;
  }
}

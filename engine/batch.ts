/**
 * Batches: many jobs of one kind submitted as one unit over the public engine API
 * (submit / poll / cancel), with
 *
 * - a bound on jobs in flight (default workers x 2, at least 1);
 * - results handed to the caller in input order through a bounded reorder window,
 *   whatever order the workers finish them in (or in arrival order, `ordered: false`);
 * - a progress callback (done, total, rate, ETA);
 * - a seed per task, `taskSeed(batchSeed, index)`, so a task's result depends only on
 *   its index and the batch seed, never on which worker ran it or when;
 * - exactly one outcome per task (done, failed with a reason, or cancelled by an abort).
 *   Rejections that mean "not now" (ring-full, overloaded, arena-full) are retried at the
 *   next pump, never reported; a job whose worker died under it is run again, up to
 *   `maxAttempts` runs in all.
 *
 * The window of positions, and the order results leave it in: batch-window.ts.
 *
 * Who polls. The engine hands every finished result to the one callback given to
 * poll(), so exactly one party polls an engine:
 *
 * - the batch, on an engine of its own: `runBatch(engine, options)` (or `drive()`)
 *   polls it on a timer until the batch is over. Results that are not the batch's go
 *   to `onOtherResult`; without one they are counted in `report.otherResults` and
 *   dropped, so give the batch an engine of its own or pass that callback.
 * - the caller, on a shared engine (a game loop): route, then pump once per frame:
 *
 *       engine.poll((r) => { if (!batch.handle(r)) apply(r); });
 *       batch.pump();
 *
 *   `handle` only records the result (no caller code runs inside the engine's poll);
 *   `pump` submits more work, delivers results in order and reports progress.
 *
 * Threads: every method on the thread that started the engine.
 */
import type { ResultView, SubmitOptions } from './api.js';
import {
  type BatchEngine,
  type BatchFailReason,
  type BatchLane,
  type BatchOptions,
  type BatchProgress,
  type BatchReport,
  type BatchResult,
  type BatchStatus,
  resolveBatchOptions,
  taskSeed,
} from './batch-types.js';
import { BatchWindow, CANCELLED, DONE, FAILED, FLIGHT, RETRY } from './batch-window.js';
import { Outcome, Rejection, rejectionName } from './outcome.js';

export { taskSeed };
export type { BatchEngine, BatchFailReason, BatchLane, BatchOptions, BatchProgress, BatchReport, BatchResult, BatchStatus };

/** Empty polls drive() retries at once before it waits for a timer tick. */
const IDLE_SPINS = 4;

const schedule = (fn: () => void, ms: number): void => {
  if (ms <= 0 && typeof setImmediate === 'function') setImmediate(fn);
  else setTimeout(fn, ms);
};

/**
 * One batch of tasks of a kind on an engine: bounded in flight, results delivered in
 * input order through a bounded reorder window, progress, retries of lost workers, abort.
 * Drive it with drive() (it polls the engine) or, beside a game loop that polls, with
 * handle(view) for each result and pump() once per frame.
 */
export class Batch {
  readonly total: number;
  readonly maxInFlight: number;
  readonly reorderWindow: number;
  readonly ordered: boolean;
  readonly lane: BatchLane;
  /** Settles once: the report when every task has its outcome; rejects if a callback of the caller threw. */
  readonly done: Promise<BatchReport>;

  private readonly engine: BatchEngine;
  private readonly kind: number;
  private readonly seed: number;
  private readonly maxAttempts: number;
  private readonly buildParams: BatchOptions['params'];
  private readonly onResult: BatchOptions['onResult'];
  private readonly onProgress: BatchOptions['onProgress'];
  private readonly skip: BatchOptions['skip'];
  private readonly progressMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onOther: BatchOptions['onOtherResult'];

  private readonly params: Float64Array;
  private readonly submitOpts: SubmitOptions & { lane: BatchLane };
  private readonly result: BatchResult;
  private readonly progress: BatchProgress;

  private readonly win: BatchWindow;
  /** The lowest task index not yet submitted, skipped or ended. */
  private next = 0;
  private inFlight = 0;
  private retrying = 0;
  private nDone = 0;
  private nFailed = 0;
  private nCancelled = 0;
  private nSkipped = 0;
  private nRetriedSubmits = 0;
  private nRetriedRuns = 0;
  private nOther = 0;
  private aborted = false;
  private userError: unknown = null;
  private hasUserError = false;
  private settled = false;
  private pumping = false;
  private driving = false;
  private idlePolls = 0;
  private readonly t0: number;
  private lastProgress = -Infinity;
  private resolve!: (r: BatchReport) => void;
  private reject!: (e: unknown) => void;
  private readonly onAbort = (): void => {
    this.aborted = true;
    if (this.driving) schedule(this.tick, 0);
  };
  private readonly pollCb = (r: ResultView): void => {
    if (this.handle(r)) return;
    this.nOther++;
    this.onOther?.(r);
  };
  private readonly tick = (): void => {
    if (this.settled) return;
    const got = this.engine.poll(this.pollCb);
    this.pump();
    if (this.settled) return;
    // Results keep coming: look again at once. Nothing came: a few more quick looks,
    // then one per timer tick (about 1 ms), so a batch of long jobs does not spin the
    // core the workers need. For jobs far shorter than a millisecond, raise maxInFlight
    // so each worker has more than a tick's work queued.
    if (got > 0) this.idlePolls = 0;
    else this.idlePolls++;
    schedule(this.tick, this.idlePolls < IDLE_SPINS ? 0 : 1);
  };

  /** Validates the options (EngineError INVALID_OPTION, UNKNOWN_KIND) and prepares the batch; nothing is submitted until pump() or drive(). */
  constructor(engine: BatchEngine, options: BatchOptions) {
    this.engine = engine;
    const o = resolveBatchOptions(engine, options);
    const spec = engine.kinds[o.kind];
    ({ kind: this.kind, seed: this.seed, maxInFlight: this.maxInFlight, window: this.reorderWindow, ordered: this.ordered, lane: this.lane } = o);
    ({ maxAttempts: this.maxAttempts, params: this.buildParams, onResult: this.onResult, onProgress: this.onProgress, skip: this.skip } = o);
    ({ progressMs: this.progressMs, signal: this.signal, onOther: this.onOther } = o);
    this.total = o.count;
    this.params = new Float64Array(spec.params.length);
    this.submitOpts = { lane: o.lane };
    this.win = new BatchWindow(o.window, o.ordered, spec.results.length);
    this.result = { index: -1, status: 'done', values: this.win.values[0], reason: null, error: null, worker: -1, attempts: 0 };
    this.progress = { total: this.total, done: 0, failed: 0, cancelled: 0, skipped: 0, completed: 0, inFlight: 0, elapsedMs: 0, ratePerS: 0, etaS: Infinity };
    this.done = new Promise<BatchReport>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.t0 = performance.now();
    if (this.signal !== undefined) {
      if (this.signal.aborted) this.aborted = true;
      else this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Jobs of this batch submitted and not yet answered. */
  get jobsInFlight(): number {
    return this.inFlight;
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /**
   * Records `r` if it is one of this batch's jobs and returns true; false otherwise (the
   * result is someone else's: apply it yourself). Never calls the caller's code, never
   * throws, allocates nothing. Call it from your poll callback.
   */
  handle(r: ResultView): boolean {
    if (r.kind !== this.kind) return false;
    const p = r.tag;
    const w = this.win;
    if (!(p >= 0 && p < this.reorderWindow) || w.state[p] !== FLIGHT || w.jobId[p] !== r.jobId) return false;
    this.inFlight--;
    w.jobId[p] = -1;
    w.worker[p] = r.worker;
    if (r.status === Outcome.Done) {
      w.keepValues(p, r.values, r.valueCount);
      w.finish(p, DONE, null, null);
    } else if (r.status === Outcome.Failed) {
      const reason = r.error !== null ? r.error.reason : 'threw';
      if (reason === 'worker-lost' && w.attempts[p] < this.maxAttempts && !this.aborted && !this.hasUserError) {
        // The job is a pure function of its params: running it again gives the result it would have given.
        w.state[p] = RETRY;
        this.retrying++;
        this.nRetriedRuns++;
      } else {
        w.finish(p, FAILED, reason, r.error);
      }
    } else if (r.status === Outcome.Expired) {
      w.finish(p, FAILED, 'expired', null);
    } else {
      w.finish(p, CANCELLED, 'cancelled', null);
    }
    return true;
  }

  /**
   * Submits up to the bounds, delivers finished results (in order when ordered), reports
   * progress and, once every task has its outcome, settles `done`. Call it after each
   * poll when you poll the engine yourself. Re-entrant calls (from inside onResult) return
   * at once. If a callback of the caller throws, the batch stops: queued jobs are
   * cancelled, running ones are waited for, no further callbacks run and `done` rejects
   * with that error.
   */
  pump(): void {
    if (this.settled || this.pumping) return;
    this.pumping = true;
    try {
      if (this.aborted || this.hasUserError) {
        // Window by window until every task not yet submitted has its outcome.
        for (;;) {
          const before = this.next;
          this.cancelAll();
          this.deliver();
          if (this.next === before) break;
        }
      } else {
        this.submitMore();
        this.deliver();
        // Delivery freed window room: fill it now rather than a poll later (unless a
        // callback just aborted the batch: then nothing more may start).
        if (!this.hasUserError && !this.aborted) this.submitMore();
      }
      this.detectLost();
      this.report(false);
      this.settleIfOver();
    } finally {
      this.pumping = false;
    }
  }

  /**
   * Polls the engine itself until the batch is over (the batch owns the engine's poll;
   * see the file comment). Returns `done`.
   */
  drive(): Promise<BatchReport> {
    if (!this.driving && !this.settled) {
      this.driving = true;
      schedule(this.tick, 0);
    }
    return this.done;
  }

  private submitMore(): void {
    const e = this.engine;
    const kind = this.kind;
    const w = this.win;
    // Runs whose worker died go first: they hold back in-order delivery.
    if (this.retrying > 0) {
      for (let p = 0; p < w.size && this.retrying > 0 && this.inFlight < this.maxInFlight; p++) {
        if (w.state[p] !== RETRY) continue;
        if (!this.submitAt(p, w.taskIndex[p], e, kind)) return;
        this.retrying--;
      }
    }
    while (this.next < this.total && this.inFlight < this.maxInFlight) {
      const index = this.next;
      const p = w.positionFor(index);
      if (p < 0) return;
      if (this.skip !== undefined && this.callSkip(index)) {
        this.nSkipped++;
        this.next++;
        w.skip(p, index);
        continue;
      }
      if (this.hasUserError || this.aborted) return;
      w.assign(p, index);
      if (!this.submitAt(p, index, e, kind)) return;
      w.take();
      this.next++;
    }
  }

  private callSkip(index: number): boolean {
    try {
      return this.skip!(index) === true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /**
   * Submits task `index` at position p. False when the engine said "not now" (the task
   * stays where it is and is tried again at the next pump) or the caller's builder threw.
   */
  private submitAt(p: number, index: number, e: BatchEngine, kind: number): boolean {
    try {
      this.buildParams(index, taskSeed(this.seed, index), this.params);
    } catch (err) {
      this.fail(err);
      return false;
    }
    const id = e.submit(kind, this.params, p, this.submitOpts);
    const w = this.win;
    if (id >= 0) {
      w.launched(p, id);
      this.inFlight++;
      return true;
    }
    if (id === Rejection.RingFull || id === Rejection.Overloaded || id === Rejection.ArenaFull) {
      // The position keeps its state (empty, or a retry), for the next pump.
      this.nRetriedSubmits++;
      return false;
    }
    // Refused for good: this task fails with the reason; the batch goes on. With no worker
    // left to run it (every one used up its respawns), the task is lost like one whose
    // worker died under it.
    const reason: BatchFailReason = id === Rejection.ShutDown ? 'shutdown' : id === Rejection.NoWorkers ? 'worker-lost' : (rejectionName(id) as BatchFailReason);
    w.worker[p] = -1;
    w.finish(p, FAILED, reason, null);
    return true;
  }

  private fail(err: unknown): void {
    if (!this.hasUserError) {
      this.hasUserError = true;
      this.userError = err;
    }
  }

  /** Abort or a caller error: cancel what has not started, end every task not yet submitted. */
  private cancelAll(): void {
    const w = this.win;
    for (let p = 0; p < w.size; p++) {
      const st = w.state[p];
      if (st === FLIGHT) {
        if (this.engine.cancel(w.jobId[p])) {
          this.inFlight--;
          w.jobId[p] = -1;
          w.finish(p, CANCELLED, 'aborted', null);
        }
      } else if (st === RETRY) {
        this.retrying--;
        w.finish(p, FAILED, 'worker-lost', null);
      }
    }
    // Tasks never submitted end cancelled too, in order, through the window.
    while (this.next < this.total) {
      const index = this.next;
      const p = w.positionFor(index);
      if (p < 0) return;
      this.next++;
      if (this.skip !== undefined && !this.hasUserError && this.callSkip(index)) {
        this.nSkipped++;
        w.skip(p, index);
        continue;
      }
      w.assign(p, index);
      w.take();
      w.worker[p] = -1;
      w.finish(p, CANCELLED, 'aborted', null);
    }
  }

  /** An engine that shut down delivers our in-flight jobs' outcomes to someone else, or none: end them here. */
  private detectLost(): void {
    if (this.inFlight === 0 || this.engine.inFlight !== 0) return;
    const w = this.win;
    for (let p = 0; p < w.size; p++) {
      if (w.state[p] !== FLIGHT) continue;
      this.inFlight--;
      w.jobId[p] = -1;
      w.finish(p, FAILED, 'shutdown', null);
    }
  }

  private deliver(): void {
    const w = this.win;
    for (let p = w.nextDue(this.next); p >= 0; p = w.nextDue(this.next)) {
      this.emit(p, w.state[p]);
      w.recycle(p);
    }
  }

  private emit(p: number, st: number): void {
    const w = this.win;
    const r = this.result;
    r.index = w.taskIndex[p];
    r.values = w.values[p];
    r.reason = w.reason[p];
    r.error = w.error[p];
    r.worker = w.worker[p];
    r.attempts = w.attempts[p];
    if (st === DONE) {
      r.status = 'done';
      this.nDone++;
    } else {
      // Values of a task that did not finish are zeros, never a previous task's.
      r.values.fill(0);
      if (st === FAILED) {
        r.status = 'failed';
        this.nFailed++;
      } else {
        r.status = 'cancelled';
        this.nCancelled++;
      }
    }
    w.clear(p);
    if (!this.hasUserError) {
      try {
        this.onResult(r.index, r);
      } catch (err) {
        this.fail(err);
      }
    }
  }

  private report(final: boolean): void {
    const cb = this.onProgress;
    if (cb === undefined || this.hasUserError) return;
    const now = performance.now();
    if (!final && now - this.lastProgress < this.progressMs) return;
    this.lastProgress = now;
    const g = this.progress;
    g.done = this.nDone;
    g.failed = this.nFailed;
    g.cancelled = this.nCancelled;
    g.skipped = this.nSkipped;
    g.completed = this.nDone + this.nFailed + this.nCancelled;
    g.inFlight = this.inFlight;
    g.elapsedMs = now - this.t0;
    g.ratePerS = g.elapsedMs > 0 ? (g.completed * 1000) / g.elapsedMs : 0;
    const left = this.total - g.skipped - g.completed;
    g.etaS = left === 0 ? 0 : g.ratePerS > 0 ? left / g.ratePerS : Infinity;
    try {
      cb(g);
    } catch (err) {
      this.fail(err);
    }
  }

  private settleIfOver(): void {
    if (this.hasUserError) {
      // Stop submitting and wait for what is running; then reject.
      this.cancelAll();
      if (this.inFlight > 0) return;
      this.settled = true;
      this.cleanup();
      this.reject(this.userError);
      return;
    }
    const over = this.next >= this.total && this.inFlight === 0 && this.retrying === 0 && this.win.drained(this.total);
    if (!over) return;
    this.report(true);
    if (this.hasUserError) {
      this.settled = true;
      this.cleanup();
      this.reject(this.userError);
      return;
    }
    this.settled = true;
    this.cleanup();
    this.resolve({
      total: this.total,
      done: this.nDone,
      failed: this.nFailed,
      cancelled: this.nCancelled,
      skipped: this.nSkipped,
      aborted: this.aborted,
      retriedSubmits: this.nRetriedSubmits,
      retriedRuns: this.nRetriedRuns,
      otherResults: this.nOther,
      maxInFlight: this.maxInFlight,
      reorderWindow: this.reorderWindow,
      elapsedMs: performance.now() - this.t0,
    });
  }

  private cleanup(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * Runs a batch on an engine the batch polls itself (an engine of its own, or pass
 * `onOtherResult` for everyone else's results). Resolves with the report once every task
 * has its outcome; an abort resolves too (`aborted: true`). Rejects only if a callback
 * of the caller threw, after the jobs in flight have ended.
 */
export function runBatch(engine: BatchEngine, options: BatchOptions): Promise<BatchReport> {
  return new Batch(engine, options).drive();
}

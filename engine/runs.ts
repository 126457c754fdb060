/**
 * engine.run(): one job as a promise, for loading screens and tools, with no poll loop of
 * the caller's. It settles exactly once: with the job's values, or rejected with its
 * JobError (threw, worker lost, shutdown, dependency failed), with EngineError('ABORTED')
 * when its signal aborts (the job is cancelled if it had not started; a later result is
 * dropped), with EngineError('CANCELLED') when engine.cancel() cancels it, or with
 * EngineError('REJECTED') when submit refuses it.
 *
 * A run() job's outcome goes to its promise, never to a poll callback, whoever polls.
 * While promises are pending the engine polls by itself, taking only their outcomes (any
 * other result stays where it is for the game's own poll): woken by the next result a
 * worker publishes (EngineCore.whenResults' wake), or on a 1 ms timer while results for
 * the game's poll wait ahead of ours or the jobs run inline.
 *
 * Main thread only. Allocates per call (a promise, a result copy): not for the frame loop.
 */
import type { Lane, ResultView, SubmitOptions } from './api.js';
import { EngineError, isAbortSignal, thrownText } from './errors.js';
import type { JobTable, Settler } from './job-table.js';
import { Outcome, rejectionName } from './outcome.js';

/** Options of engine.run(): an abort signal, and the submit options a promised job may take. */
export interface RunOptions {
  /** Aborts the job: cancelled if it has not started, and the promise rejects at once. */
  signal?: AbortSignal;
  deadlineFrames?: number;
  lane?: Lane;
  /** Prerequisites, as in SubmitOptions.after. */
  after?: number | ArrayLike<number>;
}

/** What a run() promise resolves with: a copy of the job's result. */
export interface RunResult {
  readonly jobId: number;
  readonly kind: number;
  /** The kind's result values. */
  readonly values: Float64Array;
  /** Worker that ran it, -1 on the engine's own thread. */
  readonly worker: number;
  readonly latencyMs: number;
  readonly runMs: number;
  /** The job's arena slice (read it before the next submit that may reuse it), or -1. */
  readonly arenaOffset: number;
  readonly arenaBytes: number;
}

export interface RunHost {
  kindId(name: string): number;
  submit(kind: number, params: ArrayLike<number>, tag: number, opts: SubmitOptions): number;
  cancel(jobId: number): boolean;
  /** Delivers outcomes of run() jobs only (see Collector.collectSettled). */
  collectSettled(): void;
  /**
   * Resolves true when a worker publishes a result or a failure is decided on the engine's
   * thread, false after a while without; null when the engine cannot be waited on that way
   * now (jobs run inline, or outcomes for the game's poll are waiting ahead of ours).
   */
  nextResult(): Promise<boolean> | null;
}

/** Pump period while promises wait and no result can wake the pump, ms. */
const PUMP_MS = 1;
/** Pumps in a row that settle nothing before the pump falls back to its timer. */
const IDLE_PUMPS = 8;

export class Runs {
  private readonly jobs: JobTable;
  private readonly host: RunHost;
  private pending = 0;
  /** A pump is due: on a timer, or when a result wakes it. */
  private scheduled = false;
  /** Pumps in a row that settled nothing (woken by results that were not ours). */
  private idlePumps = 0;
  private readonly pump = (): void => {
    this.scheduled = false;
    const before = this.pending;
    this.host.collectSettled();
    this.idlePumps = this.pending === before ? this.idlePumps + 1 : 0;
    if (this.pending > 0) this.schedule();
  };
  private readonly afterWait = (woken: boolean): void => {
    if (woken) this.pump();
    else setTimeout(this.pump, PUMP_MS);
  };
  private readonly waitFailed = (): void => {
    setTimeout(this.pump, PUMP_MS);
  };

  /**
   * The next pump: when a worker publishes a result (a timer fires on whole milliseconds,
   * at least 4 ms apart in a browser once timers nest), else on a timer. After
   * IDLE_PUMPS wakes in a row that settled nothing (a busy game's results), on a timer
   * until one settles something: a wake per result would only spend the game's thread.
   */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const woken = this.idlePumps >= IDLE_PUMPS ? null : this.host.nextResult();
    if (woken === null) setTimeout(this.pump, PUMP_MS);
    else woken.then(this.afterWait, this.waitFailed);
  }

  /** Called once, at the first run(): from then on `ended` must hear of every outcome. */
  private readonly activate: () => void;

  constructor(jobs: JobTable, host: RunHost, activate: () => void) {
    this.jobs = jobs;
    this.host = host;
    this.activate = activate;
  }

  run(kind: number | string, params: ArrayLike<number>, opts?: RunOptions): Promise<RunResult> {
    const bad = (what: string): Promise<never> => Promise.reject(new EngineError('INVALID_ARGUMENT', `run(): ${what}`));
    // Each option is read once, into locals; a getter that throws is a bad call.
    let signal: unknown;
    const submitOpts: SubmitOptions = {};
    try {
      if (opts !== undefined) {
        if (opts === null || typeof opts !== 'object') return bad(`options must be an object, got ${opts === null ? 'null' : typeof opts}`);
        signal = opts.signal;
        const deadlineFrames = opts.deadlineFrames;
        const lane = opts.lane;
        const after = opts.after;
        if (deadlineFrames !== undefined) submitOpts.deadlineFrames = deadlineFrames;
        if (lane !== undefined) submitOpts.lane = lane;
        if (after !== undefined) submitOpts.after = after;
      }
    } catch (err) {
      return bad(`reading the options threw: ${thrownText(err)}`);
    }
    // A real AbortSignal, so that reading `aborted` and (un)registering the listener are its
    // own methods; a Proxy of one fails on them, and is refused here rather than later.
    if (signal !== undefined && !isAbortSignal(signal)) return bad('options.signal must be an AbortSignal');
    const sig = signal as AbortSignal | undefined;
    let aborted = false;
    try {
      aborted = sig !== undefined && sig.aborted === true;
    } catch {
      return bad('options.signal must be an AbortSignal');
    }
    if (aborted) return Promise.reject(new EngineError('ABORTED', 'run(): the signal was already aborted; the job was not submitted'));
    let k: number;
    try {
      k = typeof kind === 'string' ? this.host.kindId(kind) : kind;
    } catch (err) {
      return Promise.reject(err instanceof EngineError ? err : new EngineError('INVALID_ARGUMENT', `run(): ${thrownText(err)}`));
    }
    let done = false;
    let id = -1;
    let slot = -1;
    let rejectRun: ((err: unknown) => void) | null = null;
    const finish = (): void => {
      done = true;
      this.pending--;
      if (sig !== undefined) {
        try {
          sig.removeEventListener('abort', onAbort);
        } catch {
          // Its listener then stays registered; onAbort does nothing once done.
        }
      }
    };
    const onAbort = (): void => {
      if (done || id < 0) return;
      finish();
      // Not started: cancelled (its settler hears of it first, as done already). Started:
      // its result will find a settler that drops it.
      this.host.cancel(id);
      if (this.jobs.settlers !== null && this.jobs.slotOf(id) === slot) this.jobs.settlers[slot] = dropResult;
      rejectRun?.(new EngineError('ABORTED', `run(): job ${id} was aborted`));
    };
    // Registered before the job is submitted: a signal whose addEventListener throws is
    // refused with nothing submitted.
    if (sig !== undefined) {
      try {
        sig.addEventListener('abort', onAbort, { once: true });
      } catch {
        return bad("options.signal's addEventListener threw");
      }
    }
    id = this.host.submit(k, params, 0, submitOpts);
    if (id < 0) {
      if (sig !== undefined) {
        try {
          sig.removeEventListener('abort', onAbort);
        } catch {
          // As in finish.
        }
      }
      return Promise.reject(new EngineError('REJECTED', `run(): submit refused the job: ${rejectionName(id)}`));
    }
    slot = id & (this.jobs.capacity - 1);
    return new Promise<RunResult>((resolve, reject) => {
      rejectRun = reject;
      const settle: Settler = (view) => {
        if (done) return;
        finish();
        if (view === null) reject(new EngineError('CANCELLED', `run(): job ${id} was cancelled`));
        else if (view.status === Outcome.Done) resolve(copyOf(view));
        else if (view.status === Outcome.Failed && view.error !== null) reject(view.error);
        else reject(new EngineError('EXPIRED', `run(): job ${id} expired: its deadline frame passed before it started`));
      };
      if (this.jobs.settlers === null) {
        this.jobs.settlers = new Array<Settler | null>(this.jobs.capacity).fill(null);
        this.activate();
      }
      this.jobs.settlers[slot] = settle;
      this.pending++;
      this.idlePumps = 0;
      this.schedule();
      // The signal may have aborted while the job was submitted (an abort listener of the
      // game's, run by submit's own callbacks): the listener found no promise to reject.
      let abortedSince = false;
      try {
        abortedSince = sig !== undefined && sig.aborted === true;
      } catch {
        // Read once before without throwing: a signal that throws now is taken as not aborted.
      }
      if (abortedSince) onAbort();
    });
  }

  /** A job's outcome was counted: a cancelled run() job has no delivery, so its promise hears here. */
  ended(slot: number, outcome: Outcome): void {
    const settlers = this.jobs.settlers;
    if (outcome !== Outcome.Cancelled || settlers === null) return;
    const settle = settlers[slot];
    if (settle === null) return;
    settlers[slot] = null;
    settle(null);
  }
}

const dropResult: Settler = () => {};

function copyOf(v: ResultView): RunResult {
  return {
    jobId: v.jobId,
    kind: v.kind,
    values: v.values.slice(0, v.valueCount),
    worker: v.worker,
    latencyMs: v.latencyMs,
    runMs: v.runMs,
    arenaOffset: v.arenaOffset,
    arenaBytes: v.arenaBytes,
  };
}

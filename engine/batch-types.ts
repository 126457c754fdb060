/**
 * The batch layer's public shapes (batch.ts is the behaviour): options, the per-task
 * result view, progress and the final report, and the per-task seed.
 */
import type { Lane, ResultView, SubmitOptions } from './api.js';
import { EngineError, isAbortSignal, shownValue, thrownText, type JobError } from './errors.js';
import type { JobKind } from './kind.js';

/**
 * The scheduling lane a batch's jobs go to. Batches default to `background`: work with
 * no frame deadline. Passed through to submit as `lane` (the engine decides what a lane
 * means).
 */
export type BatchLane = Lane;

/** Why a task did not end `done`. */
export type BatchFailReason =
  /** The handler threw; `error` has the worker's stack. */
  | 'threw'
  /** Its worker died under it on every attempt. */
  | 'worker-lost'
  | 'worker-out-of-memory'
  /** The engine shut down with the task in flight or before it was submitted. */
  | 'shutdown'
  /** A prerequisite of the job did not end done (batch tasks name none; listed for completeness). */
  | 'dependency-failed'
  /** The handler wrote past its arena slice (EngineOptions.arenaGuards). */
  | 'arena-overrun'
  /** Its deadline passed before it started (a kind with a default deadline). */
  | 'expired'
  /** Refused at submit for good: the params the builder wrote, or the kind, or the payload. */
  | 'bad-params'
  | 'unknown-kind'
  | 'payload-too-large'
  /** The batch's signal aborted before the task ran (status `cancelled`). */
  | 'aborted'
  /** Cancelled by someone else's engine.cancel(). */
  | 'cancelled';

/** How one task ended. */
export type BatchStatus = 'done' | 'failed' | 'cancelled';

/**
 * One task's outcome, as handed to onResult: one object, refilled for every task.
 * Copy out what you need before returning.
 */
export interface BatchResult {
  index: number;
  status: BatchStatus;
  /** The kind's result values (its `results.length` of them); zeros unless done. */
  values: Float64Array;
  reason: BatchFailReason | null;
  /** The engine's error for a failed job (a handler's stack), else null. */
  error: JobError | null;
  /** Worker that ran it (-1 inline or never run). */
  worker: number;
  /** Times it was run; more than 1 after a worker died under it. */
  attempts: number;
}

/** Progress, handed to onProgress: one object, refilled for every call. */
export interface BatchProgress {
  /** Tasks in the batch, skipped ones included. */
  total: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Tasks `skip` left out (already done by an earlier run). */
  skipped: number;
  /** done + failed + cancelled: delivered to onResult by this run. */
  completed: number;
  inFlight: number;
  elapsedMs: number;
  /** completed per second over this run. */
  ratePerS: number;
  /** Seconds left at the current rate; Infinity before the first result. */
  etaS: number;
}

/** What a finished batch reports: how many tasks ended each way, and how long it took. */
export interface BatchReport {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly skipped: number;
  /** The signal aborted the batch (tasks not run are `cancelled`, reason `aborted`). */
  readonly aborted: boolean;
  /** Submits refused for now (ring-full, overloaded, arena-full) and tried again later. */
  readonly retriedSubmits: number;
  /** Runs repeated because a worker died under the job. */
  readonly retriedRuns: number;
  /** Results drive() polled that were not this batch's. */
  readonly otherResults: number;
  readonly maxInFlight: number;
  readonly reorderWindow: number;
  readonly elapsedMs: number;
}

/** What runBatch and new Batch take: the kind, how many tasks and how to make each one's parameters, and how to deliver results. */
export interface BatchOptions {
  /** Kind id or name; every task of the batch is this kind. */
  kind: number | string;
  /** Tasks: indices 0 .. count-1. At most 2^31 - 1. */
  count: number;
  /**
   * Fills `out` (the kind's parameter count, reused for every task) with task
   * `index`'s params. `seed` is taskSeed(options.seed, index): put it in a param if the
   * task is random. Must not throw and must not keep `out`.
   */
  params: (index: number, seed: number, out: Float64Array) => void;
  /** Receives every task's outcome exactly once, in input order unless `ordered: false`. */
  onResult: (index: number, result: BatchResult) => void;
  /** The batch seed. Default 0. */
  seed?: number;
  /** Most jobs of this batch in flight. Default engine workers x 2, at least 1. */
  maxInFlight?: number;
  /** Results held for in-order delivery (ordered) or task positions (unordered). Default max(64, 8 x maxInFlight); at least maxInFlight. */
  reorderWindow?: number;
  /** Deliver in input order (default) or as results arrive. */
  ordered?: boolean;
  /** Runs per task when its worker dies under it. Default 2. */
  maxAttempts?: number;
  /** Leaves task `index` out: not submitted, not delivered (it was done by an earlier run). */
  skip?: (index: number) => boolean;
  /** Called at most every progressIntervalMs, and once at the end. */
  onProgress?: (p: BatchProgress) => void;
  /** Default 250 ms. */
  progressIntervalMs?: number;
  /** Aborts: queued jobs are cancelled, running ones finish, the rest end `cancelled`. */
  signal?: AbortSignal;
  /** Default 'background'. */
  lane?: BatchLane;
  /** drive() only: results of jobs that are not this batch's. */
  onOtherResult?: (r: ResultView) => void;
}

/** The part of EngineCore a batch uses. */
export interface BatchEngine {
  readonly kinds: readonly JobKind<any>[];
  readonly workerCount: number;
  /** Jobs of everyone in flight: when it is 0 and the batch still waits, the engine lost them (shut down). */
  readonly inFlight: number;
  kindId(name: string): number;
  submit(kind: number, params: ArrayLike<number>, tag?: number, opts?: SubmitOptions): number;
  poll(onResult: (r: ResultView) => void, max?: number): number;
  cancel(jobId: number): boolean;
}

/**
 * The seed of task `index` in a batch seeded `batchSeed`: a uint32 from a fixed mixing
 * function (murmur3's finaliser over the seed, then over the index), the same on every
 * thread and every run. For an `i32` param, pass `taskSeed(s, i) | 0`.
 */
export function taskSeed(batchSeed: number, index: number): number {
  let h = fmix32((batchSeed >>> 0) ^ 0x5bd1e995);
  h = fmix32(h ^ Math.imul((index >>> 0) + 0x9e3779b9, 0x85ebca6b));
  const hi = Math.floor(index / 4294967296);
  if (hi !== 0) h = fmix32(h ^ hi);
  return h >>> 0;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// Position states.

/** Most tasks in one batch. */
const MAX_COUNT = 0x7fffffff;
/** Largest reorder window (and in-flight bound). */
const MAX_WINDOW = 1 << 20;

const bad = (msg: string): never => {
  throw new EngineError('INVALID_OPTION', msg);
};

/** BatchOptions as validated and defaulted; each field was read from the caller's object once. */
export interface ResolvedBatchOptions {
  readonly kind: number;
  readonly count: number;
  readonly params: BatchOptions['params'];
  readonly onResult: BatchOptions['onResult'];
  readonly seed: number;
  readonly maxInFlight: number;
  readonly window: number;
  readonly ordered: boolean;
  readonly maxAttempts: number;
  readonly progressMs: number;
  readonly lane: BatchLane;
  readonly onProgress: BatchOptions['onProgress'];
  readonly skip: BatchOptions['skip'];
  readonly onOther: BatchOptions['onOtherResult'];
  readonly signal: AbortSignal | undefined;
}

/**
 * Reads each batch option once and checks it: EngineError('INVALID_OPTION') naming the
 * option, the rule and the value, or EngineError('UNKNOWN_KIND').
 */
export function resolveBatchOptions(engine: BatchEngine, options: BatchOptions): ResolvedBatchOptions {
  if (typeof options !== 'object' || options === null) bad('batch options must be an object');
  let v: { [K in keyof BatchOptions]: unknown };
  try {
    const o = options;
    v = {
      kind: o.kind, count: o.count, params: o.params, onResult: o.onResult, seed: o.seed, maxInFlight: o.maxInFlight,
      reorderWindow: o.reorderWindow, ordered: o.ordered, maxAttempts: o.maxAttempts, progressIntervalMs: o.progressIntervalMs,
      lane: o.lane, onProgress: o.onProgress, skip: o.skip, onOtherResult: o.onOtherResult, signal: o.signal,
    };
  } catch (err) {
    return bad(`batch options could not be read: ${thrownText(err)}`);
  }
  let kind: number;
  if (typeof v.kind === 'string') kind = engine.kindId(v.kind);
  else if (typeof v.kind === 'number' && Number.isInteger(v.kind) && engine.kinds[v.kind] !== undefined) kind = v.kind;
  else throw new EngineError('UNKNOWN_KIND', `batch kind must be a registered kind id or name, got ${shownValue(v.kind)}`);
  const count = v.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > MAX_COUNT) bad(`batch count must be an integer in [0, ${MAX_COUNT}], got ${String(count)}`);
  if (typeof v.params !== 'function') bad('batch params must be a function (index, seed, out) => void');
  if (typeof v.onResult !== 'function') bad('batch onResult must be a function (index, result) => void');
  const seed = v.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) bad(`batch seed must be an integer, got ${String(seed)}`);
  const maxInFlight = v.maxInFlight ?? Math.max(1, engine.workerCount * 2);
  if (typeof maxInFlight !== 'number' || !Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > MAX_WINDOW) {
    bad(`batch maxInFlight must be an integer in [1, ${MAX_WINDOW}], got ${shownValue(maxInFlight)}`);
  }
  const window = v.reorderWindow ?? Math.min(MAX_WINDOW, Math.max(64, 8 * (maxInFlight as number)));
  if (typeof window !== 'number' || !Number.isInteger(window) || window < (maxInFlight as number) || window > MAX_WINDOW) {
    bad(`batch reorderWindow must be an integer in [maxInFlight (${shownValue(maxInFlight)}), ${MAX_WINDOW}], got ${shownValue(window)}`);
  }
  const maxAttempts = v.maxAttempts ?? 2;
  if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 255) bad(`batch maxAttempts must be an integer in [1, 255], got ${String(maxAttempts)}`);
  const progressMs = v.progressIntervalMs ?? 250;
  if (typeof progressMs !== 'number' || !(progressMs >= 0)) bad(`batch progressIntervalMs must be a non-negative number of milliseconds, got ${String(progressMs)}`);
  const lane = v.lane ?? 'background';
  if (lane !== 'frame' && lane !== 'background') bad(`batch lane must be 'frame' or 'background', got ${shownValue(lane)}`);
  for (const name of ['onProgress', 'skip', 'onOtherResult'] as const) {
    if (v[name] !== undefined && typeof v[name] !== 'function') bad(`batch ${name} must be a function`);
  }
  const signal = v.signal as AbortSignal | undefined;
  // A real one: its `aborted` and listener methods are its own, and a Proxy's reads cannot throw later.
  if (signal !== undefined && !isAbortSignal(signal)) bad('batch signal must be an AbortSignal');
  return {
    kind,
    count: count as number,
    params: v.params as BatchOptions['params'],
    onResult: v.onResult as BatchOptions['onResult'],
    seed: seed as number,
    maxInFlight: maxInFlight as number,
    window: window as number,
    ordered: v.ordered === undefined ? true : v.ordered === true,
    maxAttempts: maxAttempts as number,
    progressMs: progressMs as number,
    lane: lane as BatchLane,
    onProgress: v.onProgress as BatchOptions['onProgress'],
    skip: v.skip as BatchOptions['skip'],
    onOther: v.onOtherResult as BatchOptions['onOtherResult'],
    signal,
  };
}

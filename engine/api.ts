/**
 * The engine's public shapes: options, per-submit options, the reusable result view,
 * stats, health, events and the worker-host interface. EngineCore (core.ts) implements
 * the behaviour; this file is the contract.
 */
import type { JobError } from './errors.js';
import type { Outcome } from './outcome.js';

/** One options object, validated once in EngineCore.start. Units are in the names. */
export interface EngineOptions {
  /** Worker threads. 0 runs every job inline on the calling thread, inside poll(). Default 4. */
  workers?: number;
  /** Kind modules (URLs or absolute paths of built .js files) imported on both sides. Built-in kinds are always loaded. */
  kindModules?: readonly (string | URL)[];
  /** Job slots: the most jobs in flight at once. Power of two. Default 16384. */
  jobCapacity?: number;
  /**
   * Slots per worker ring (job ring and result ring alike). Power of two.
   * Default: jobCapacity / workers, rounded up to a power of two.
   */
  ringCapacity?: number;
  /** Bytes of shared arena for payloads too big to travel inline. Multiple of 8. Default 4 MiB. */
  arenaBytes?: number;
  /** Worker heartbeat period while idle, in ms. Default 50. */
  heartbeatMs?: number;
  /** A busy worker whose heartbeat has not moved for this long is stale. Default 3 * heartbeatMs. */
  staleMs?: number;
  /** A busy worker whose heartbeat has not moved for this long is hung: terminated and respawned. Default 1000. */
  hangTimeoutMs?: number;
  /** A worker that has not finished init within this is reported and retried. Default 10000. */
  initTimeoutMs?: number;
  /**
   * Admission budget in ms: a submit is rejected `overloaded` when the least-loaded
   * worker's queued work (estimated from measured run times per kind) would exceed it.
   * Default Infinity (admit until the rings are full).
   */
  maxQueueMs?: number;
  /** Buffers handed to every worker's kind init (for example a navigation grid). */
  shared?: Readonly<Record<string, SharedArrayBuffer>>;
  /** JSON-safe configuration handed to kind init. */
  config?: Readonly<Record<string, unknown>>;
  /** Where the worker entry lives. Default: the built engine/worker-entry.js beside core; a browser bundle must pass its own (for example dist/web/worker.entry.js). */
  workerUrl?: string | URL;
  /** The thread host. Default: Node worker_threads on Node, Web Workers in a browser. */
  host?: WorkerHost;
  /** Node only (ignored by the browser host): V8 heap limits per worker. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /**
   * Scheduling niceness of worker threads (0-19; 0 leaves them as they are). Default 10:
   * when workers outnumber cores, the game loop's thread wins the CPU and a woken worker
   * does not preempt a frame. Node on Linux only (per-thread priority); elsewhere, and in
   * browsers, it does nothing.
   */
  workerNice?: number;
  /** Most respawns of one worker index per minute before it stays dead. Default 30. */
  maxRespawnsPerMinute?: number;
}

/**
 * Per-submit options. Pass one object and reuse it across submits to stay
 * allocation-free; every field is optional.
 */
export interface SubmitOptions {
  /** Deadline in frames after the current frame; a job not started by then is expired, not run. */
  deadlineFrames?: number;
  /**
   * A caller-allocated arena slice (from arenaAlloc) holding the payload. Once the job is
   * accepted it holds the slice and the engine frees it when the job ends; a refused
   * submit leaves it with the caller (submit it again, or arenaFree it).
   */
  arenaOffset?: number;
  arenaBytes?: number;
}

/**
 * What poll() hands to its callback: one object, refilled for every result.
 * Copy out what you need before returning; the arena slice is freed afterwards.
 */
export interface ResultView {
  jobId: number;
  kind: number;
  tag: number;
  status: Outcome;
  submitFrame: number;
  deadlineFrame: number;
  /** Worker that ran it, -1 inline. */
  worker: number;
  /** Inline results; the first `valueCount` entries are this job's. */
  readonly values: Float64Array;
  valueCount: number;
  arenaOffset: number;
  arenaBytes: number;
  /** Set for `failed` outcomes only. */
  error: JobError | null;
  /** Submit to published, ms. */
  latencyMs: number;
  /** Time in the handler, ms. NaN for a job run by runInline, which reads no clock per job. */
  runMs: number;
}

export interface LatencyHistogram {
  /** Upper bound of each bucket in microseconds (log2 buckets). */
  readonly boundsUs: readonly number[];
  readonly counts: readonly number[];
}

export interface WorkerStats {
  readonly index: number;
  readonly jobsProcessed: number;
  readonly jobsFailed: number;
  readonly respawns: number;
  readonly queued: number;
}

export interface EngineStats {
  readonly submitted: number;
  readonly completed: number;
  readonly failed: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  readonly expired: number;
  readonly cancelled: number;
  readonly inFlight: number;
  readonly queueOccupancy: number;
  readonly queueCapacity: number;
  readonly resultOccupancy: number;
  readonly resultCapacity: number;
  readonly workers: readonly WorkerStats[];
  readonly respawns: number;
  readonly latency: LatencyHistogram;
  readonly sharedBytes: number;
  readonly arenaBytesUsed: number;
  readonly arenaBytes: number;
}

export type WorkerState = 'starting' | 'alive' | 'stale' | 'dead';

export interface WorkerHealth {
  readonly index: number;
  readonly state: WorkerState;
  readonly beats: number;
  /** Job id running now, or -1. */
  readonly currentJob: number;
  readonly jobsProcessed: number;
  readonly respawns: number;
  /** Why it is dead, when it is. */
  readonly reason: string | null;
}

export type EngineEvent =
  | { type: 'worker-exit'; worker: number; exitCode: number; reason: string }
  | { type: 'worker-hung'; worker: number; jobId: number; silentMs: number }
  | { type: 'worker-respawned'; worker: number; respawns: number }
  | { type: 'worker-init-timeout'; worker: number; timeoutMs: number }
  | { type: 'worker-init-failed'; worker: number; message: string }
  | { type: 'worker-out-of-memory'; worker: number; jobId: number };

export interface ShutdownReport {
  readonly completed: number;
  readonly failed: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly inFlightAtStart: number;
  readonly timedOut: boolean;
  readonly stats: EngineStats;
}

/** What a worker host gives back for each spawned thread. */
export interface HostedWorker {
  /** Stops the thread; resolves once it is gone (Node: its exit event; browser: see host-browser.ts, about 2 s in Chromium, capped). */
  terminate(): Promise<void>;
}

export interface WorkerHostCallbacks {
  onMessage(data: unknown): void;
  onError(message: string, stack: string): void;
  /** exitCode is -1 where the host cannot tell. reason: 'exit' | 'error' | 'out-of-memory' | 'terminated'. */
  onExit(exitCode: number, reason: string): void;
}

/**
 * One interface over Node worker_threads and browser Web Workers.
 * `resourceLimits` does nothing in the browser; browser exit is only seen for
 * terminations the engine asked for and for uncaught errors.
 */
export interface WorkerHost {
  readonly name: 'node' | 'browser';
  spawn(url: string | URL, init: unknown, cb: WorkerHostCallbacks, resourceLimits?: EngineOptions['resourceLimits']): HostedWorker;
}

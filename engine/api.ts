/**
 * The engine's public shapes: options, per-submit options, the reusable result view,
 * stats, health, events and the worker-host interface. EngineCore (core.ts) implements
 * the behaviour; this file is the contract.
 */
import type { JobError } from './errors.js';
import type { JobKind } from './kind.js';
import type { Outcome } from './outcome.js';

/** One options object, validated once in EngineCore.start. Units are in the names. */
export interface EngineOptions {
  /**
   * Worker threads. 0 runs every job inline on the calling thread, inside poll().
   * Default: one fewer than the cores this process may use (os.availableParallelism() on
   * Node, navigator.hardwareConcurrency in a browser), so the game loop keeps a core;
   * at least 1, at most 16.
   */
  workers?: number;
  /**
   * Kinds given in code (imported statically, so a bundler sees them). Registered after
   * the built-in kinds and before `kindModules`. With workers, the worker entry must call
   * `serveWorker(kinds)` (from `framejobs/worker`) with the same kinds, in the same order:
   * pass that entry as `workerFactory`.
   */
  kinds?: readonly JobKind<any, any, any>[];
  /**
   * Kind modules imported by URL on both sides, for plain Node without a bundler: each
   * module exports `kinds`. A string must be a URL (`file:`, `https:`, `data:`) or, on
   * Node, an absolute path; a relative path is refused, because the main thread and a
   * worker would resolve it differently: pass `new URL('./kinds.js', import.meta.url)`.
   * Built-in kinds are always loaded.
   */
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
  /**
   * A busy worker whose heartbeat has not moved for this long is hung: terminated and
   * respawned. A worker beats after each job (and each parallel-for chunk), so this bounds
   * the run time of one job. Default 1000.
   */
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
  /** Configuration handed to every kind's init on every thread. Must survive structuredClone (no functions, no class instances with private state): otherwise INVALID_OPTION. */
  config?: Readonly<Record<string, unknown>>;
  /**
   * Creates one worker thread running a worker entry that calls `serveWorker(kinds)`.
   * Write it the way bundlers recognise, so the entry and its kinds are bundled:
   * `() => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })` in a
   * browser, `() => new Worker(new URL('./worker.js', import.meta.url))` with Node's
   * worker_threads. Called once per spawn and respawn. Takes precedence over `workerUrl`.
   * Node: `resourceLimits` cannot reach a worker you construct: pass them to `new Worker` yourself.
   */
  workerFactory?: WorkerFactory;
  /**
   * URL of a worker entry, the same rule as `kindModules` for strings. Default on Node:
   * the package's own entry (`framejobs/worker-entry`), which serves the built-in kinds
   * and `kindModules`. A browser, and a bundled Node app, must pass `workerFactory`
   * (or this).
   */
  workerUrl?: string | URL;
  /** The thread host. Default: Node worker_threads on Node, Web Workers in a browser. */
  host?: WorkerHost;
  /** Node only (ignored by the browser host): V8 heap limits per worker. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /**
   * Scheduling niceness of worker threads (0-19; 0 leaves them as they are). Default 10:
   * when workers outnumber cores, the game loop's thread gets the larger share of the CPU
   * (whether a woken worker preempts it is batchThreads' business). 0 is for a process
   * with no game loop (a sweep, a remote worker): background-lane jobs then keep the
   * threads' priority too, instead of dropping to the lowest. Node on Linux only
   * (per-thread priority); elsewhere, and in browsers, it does nothing.
   */
  workerNice?: number;
  /**
   * Linux: after the workers start, and after each respawn, every thread of the process
   * other than the engine's and the main thread (the workers, and V8's and libuv's helper
   * threads) is put in the SCHED_BATCH policy, through util-linux's `chrt`. Niceness sets
   * a thread's share of the CPU, not whether its wake-up preempts the running thread: at
   * any niceness a worker woken by a submit, or a V8 helper woken for a collection, takes
   * the core from the game loop for a millisecond or more when both cores are busy. A
   * batch thread keeps its share but never preempts on waking. Default true; false leaves
   * the threads' policies alone. Nothing happens without Linux or chrt
   * (EngineStats.threadsBatched says whether it took), and nothing in browsers.
   */
  batchThreads?: boolean;
  /** Most respawns of one worker index per minute before it stays dead. Default 30. */
  maxRespawnsPerMinute?: number;
  /**
   * Most workers that may run background-lane jobs at once (SubmitOptions.lane). Default
   * workers - 1 (at least 1), so one worker is always free for frame work.
   */
  backgroundWorkers?: number;
  /**
   * A debug mode: guard words after every arena slice, checked when its job ends. A job
   * whose handler wrote past its slice fails with reason `arena-overrun` (and the
   * neighbouring slice is named in the message). Costs 8 bytes of arena per slice and a
   * check per job with a slice. Default false.
   */
  arenaGuards?: boolean;
  /**
   * Frame pacing: while beginFrame is called at a steady cadence (between 2 and 250 ms
   * apart), the first worker (the lead) wakes itself 4 ms (at most a quarter period) before
   * the next frame is due and dozes in 0.2 ms timed waits (1 ms in browsers, where a
   * worker cannot run below the page) until that frame's jobs come (3 ms at most after
   * it begins), and looks at the other workers before each job, waking
   * those with work: so the game's thread wakes no worker in a steady frame (its
   * Atomics.notify can sleep on V8's process-wide lock whenever a thread holding it has
   * lost its core), and a frame's first jobs start at once. In the game (4 workers, frames
   * of about 11 jobs) the game thread's wake-ups fell from 45-62 ms to under 1 ms in 3,000
   * frames and the results back within their own frame rose from 3 % to 38-53 %. With 1,000
   * heavy jobs a frame on 4 workers (two cores) the p99 was mostly as without, but some
   * rounds of 100 frames lost it (1.2-3.1 ms against 0.3-0.4), the game thread waiting for
   * a core or running slower with no wake-up of its own: hence off by default. With one
   * worker (the default count on two cores) and in Chromium it was as good or better. A
   * lead busy in one job for over 1 ms leaves the wake-ups back to the game's thread at
   * its next flush. Default false.
   */
  framePacing?: boolean;
  /**
   * Job timeline recording, for engine.exportTrace() (Chrome trace JSON for Perfetto and
   * chrome://tracing). `true` or `{}` takes the default size. Off by default, and then
   * costs the engine one null check per hook. On, it reserves in the shared buffer a
   * ring of `events` records for the main thread and one for each worker; each keeps its
   * newest events and overwrites the oldest.
   */
  trace?: boolean | TraceOptions;
}

/** EngineOptions.trace. */
export interface TraceOptions {
  /**
   * Events per ring (48 B each), a power of two from 64 to 1048576; there is one ring for
   * the main thread and one per worker. Default 65536 (3 MiB per ring): about 4 s of a
   * game running 1,000 jobs per 30 Hz frame on two workers. A worker writes one event per
   * job; the main thread a few per frame and per delivering poll, none per job.
   */
  events?: number;
}

/** The two latency contracts: frame work must finish within its frames; background work may span many. */
export type Lane = 'frame' | 'background';

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
  /**
   * Prerequisites: a job id, or up to 8 of them, of jobs of this engine whose outcome has
   * not been delivered yet. The job waits until all have ended; if all are done it runs,
   * otherwise it fails `dependency-failed` without running. It may read their arena slices
   * (engine.arenaOffsetOf(id)), which stay allocated until it ends.
   */
  after?: number | ArrayLike<number>;
  /**
   * `frame` (default): dispatched at once, admission-controlled. `background`: waits in
   * the engine until a worker is free of other background work; at most
   * EngineOptions.backgroundWorkers workers run background jobs at once, at the lowest
   * thread priority (unless EngineOptions.workerNice is 0), so frame work keeps its
   * deadlines.
   */
  lane?: Lane;
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
  /** Worker that ran it (or whose loss failed it); -1: run inline, or failed `dependency-failed` without running. */
  worker: number;
  /** The job's index in its bundle (EngineCore.submitBundle); 0 for any other job. */
  item: number;
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

/** Where job latencies fall: log2 buckets of time in the handler, counted by the workers. */
export interface LatencyHistogram {
  /** Upper bound of each bucket in microseconds (log2 buckets). */
  readonly boundsUs: readonly number[];
  readonly counts: readonly number[];
}

/** One worker's counters (EngineStats.workers); they survive its respawns. */
export interface WorkerStats {
  readonly index: number;
  readonly jobsProcessed: number;
  readonly jobsFailed: number;
  readonly respawns: number;
  readonly queued: number;
}

/**
 * A snapshot of the engine's counters, from stats(). Every submitted job is counted in
 * exactly one outcome: submitted = completed + failed + rejected + expired + cancelled + inFlight.
 */
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
  /** Whether the last pass putting the process's other threads in SCHED_BATCH took (EngineOptions.batchThreads; one at start, one per respawn). */
  readonly threadsBatched: boolean;
  /**
   * The engine thread's wake-ups of sleeping workers (one Atomics.notify each, at most one
   * per worker per sleep): how many, their time in all and the longest, ms, and how many
   * took over 0.25 ms. A notify takes a lock that every Atomics.wait and notify in the
   * process shares; when a thread holding it has lost its core (workers outnumbering
   * cores), the notify sleeps until that thread runs again, a millisecond or more of the
   * frame. Few slow ones with as many workers as cores or fewer.
   */
  readonly wakes: WakeStats;
}

/** EngineStats.wakes. */
export interface WakeStats {
  readonly count: number;
  readonly ms: number;
  readonly maxMs: number;
  readonly slow: number;
}

/** A worker as health() sees it: starting (init running), alive, stale (heartbeat late), dead. */
export type WorkerState = 'starting' | 'alive' | 'stale' | 'dead';

/** One worker's health, read from its heartbeat slot by health(). */
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

/** Worker lifecycle events, delivered to EngineCore.onEvent on the engine's thread. */
export type EngineEvent =
  | { type: 'worker-exit'; worker: number; exitCode: number; reason: string }
  | { type: 'worker-hung'; worker: number; jobId: number; silentMs: number }
  | { type: 'worker-respawned'; worker: number; respawns: number }
  | { type: 'worker-init-timeout'; worker: number; timeoutMs: number }
  | { type: 'worker-init-failed'; worker: number; message: string }
  | { type: 'worker-out-of-memory'; worker: number; jobId: number };

/** What shutdown() resolves with: the outcomes of the jobs in flight when it began, and the final counters. */
export interface ShutdownReport {
  readonly completed: number;
  readonly failed: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly inFlightAtStart: number;
  readonly timedOut: boolean;
  readonly stats: EngineStats;
}

/**
 * The part of a worker the engine touches: a browser `Worker` or a Node
 * `worker_threads` `Worker` (what `workerFactory` returns).
 */
export interface SpawnedWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
}

/** Creates one worker thread; see EngineOptions.workerFactory. */
export type WorkerFactory = () => SpawnedWorker;

/** What a host spawns: a worker entry's URL, or a factory that constructs the worker. */
export type WorkerSource = string | URL | WorkerFactory;

/** What a worker host gives back for each spawned thread. */
export interface HostedWorker {
  /**
   * Stops the thread; resolves once it is gone (Node: its exit event; browser: see
   * host-browser.ts, about 2 s in Chromium, capped). Shutdown waits for it at most 5 s; a
   * throw or a rejection is ignored, as the thread's exit is reported through onExit.
   */
  terminate(): Promise<void>;
}

/** What a WorkerHost reports about a worker it spawned, on the engine's thread. */
export interface WorkerHostCallbacks {
  onMessage(data: unknown): void;
  onError(message: string, stack: string): void;
  /** exitCode is -1 where the host cannot tell. reason: 'exit' | 'error' | 'out-of-memory' | 'terminated'. */
  onExit(exitCode: number, reason: string): void;
}

/**
 * One interface over Node worker_threads and browser Web Workers.
 * `resourceLimits` does nothing in the browser (nor for a worker a factory made); a
 * browser worker's exit is seen when the engine terminates it, when it stops after
 * shutdown, and on an uncaught error.
 *
 * `spawn` never throws: a worker that cannot be created (a wrong URL, a factory that
 * throws) is reported through `onError` and then `onExit`, from a later task, like any
 * other worker that dies during init.
 */
export interface WorkerHost {
  readonly name: 'node' | 'browser';
  spawn(source: WorkerSource, init: unknown, cb: WorkerHostCallbacks, resourceLimits?: EngineOptions['resourceLimits']): HostedWorker;
}

/**
 * `framejobs`: the engine's one entry point.
 *
 *   import { EngineCore, defineKind } from 'framejobs';
 *
 * Worker entries import `serveWorker` from `framejobs/worker`; the frame layer
 * (FrameSync, FixedLoop) is `framejobs/frame`.
 */

/**
 * One engine per game: owns the shared memory, dispatches frame-tagged jobs to worker
 * rings, delivers results through poll(), watches heartbeats, respawns lost workers and
 * accounts for every job. Start it with `EngineCore.start(options)`. Every method runs
 * on the thread that started it; submit, poll, cancel and runInline never block and, in
 * the steady state, never allocate.
 */
export { EngineCore } from './core.js';
export { defineKind, MAX_PARAMS, MAX_RESULTS } from './kind.js';
export { EngineError, JobError, FAILURE_REASONS } from './errors.js';
export { Outcome, Rejection } from './outcome.js';
/** Every Rejection code, for iterating (stats by reason, tests). */
export { ALL_REJECTIONS } from './outcome.js';
/** The name of an Outcome (`done`, `failed`, `expired`, `cancelled`), for logs and reports. */
export { outcomeName } from './outcome.js';
/** The name of a negative submit() return (`ring-full`, `overloaded`, ...), for logs and reports. */
export { rejectionName } from './outcome.js';
export { isolationStatus, assertIsolated } from './host.js';
export { defaultWorkerCount } from './options.js';
export { Batch, runBatch } from './batch.js';
export { taskSeed } from './batch-types.js';

/** Options of shutdown(): how long in-flight jobs get, and where results arriving meanwhile go. */
export type { ShutdownOptions } from './core.js';
export type {
  EngineOptions,
  SubmitOptions,
  Lane,
  ResultView,
  LatencyHistogram,
  WorkerStats,
  EngineStats,
  WakeStats,
  WorkerState,
  WorkerHealth,
  EngineEvent,
  ShutdownReport,
  SpawnedWorker,
  WorkerFactory,
  WorkerSource,
  HostedWorker,
  WorkerHostCallbacks,
  WorkerHost,
  TraceOptions,
} from './api.js';
/** The job timeline's export: Chrome trace events (engine.traceEvents(), engine.exportTrace()). */
export type { TraceEvent, TraceFile, TraceExportOptions } from './trace-export.js';
export type { ParamType, ParamSpec, WorkerEnv, JobContext, JobParams, JobResults, ParamsBuffer, JobKindSpec, JobKind, KindModule } from './kind.js';
export type { EngineErrorCode, FailureReason } from './errors.js';
export type { IsolationStatus } from './host.js';
export type { RunOptions, RunResult } from './runs.js';
export type { BatchEngine, BatchFailReason, BatchLane, BatchOptions, BatchProgress, BatchReport, BatchResult, BatchStatus } from './batch-types.js';

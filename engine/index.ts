/**
 * `framejobs`: the engine's one entry point.
 *
 *   import { EngineCore, defineKind } from 'framejobs';
 *
 * Worker entries import `serveWorker` from `framejobs/worker`; the frame layer
 * (FrameSync, FixedLoop) is `framejobs/frame`.
 */
export { EngineCore } from './core.js';
export { defineKind, MAX_PARAMS, MAX_RESULTS } from './kind.js';
export { EngineError, JobError } from './errors.js';
export { Outcome, Rejection, ALL_REJECTIONS, outcomeName, rejectionName } from './outcome.js';
export { isolationStatus, assertIsolated } from './host.js';
export { defaultWorkerCount } from './options.js';

export type { ShutdownOptions } from './core.js';
export type {
  EngineOptions,
  SubmitOptions,
  ResultView,
  LatencyHistogram,
  WorkerStats,
  EngineStats,
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
} from './api.js';
export type { ParamType, ParamSpec, WorkerEnv, JobContext, JobParams, JobResults, ParamsBuffer, JobKindSpec, JobKind, KindModule } from './kind.js';
export type { EngineErrorCode, FailureReason } from './errors.js';
export type { IsolationStatus } from './host.js';

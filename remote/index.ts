/**
 * `framejobs/remote`: batches with no frame deadline, and the groups that choose where
 * they run (`inline`, `local`, `bullmq`). Nothing here imports BullMQ or Redis: the
 * `bullmq` backend and the remote worker are `framejobs/remote/bullmq`, which needs the
 * optional peers `bullmq` and `ioredis`.
 *
 *   import { JobGroups } from 'framejobs/remote';
 *   import { BullmqBackend } from 'framejobs/remote/bullmq';
 */

/**
 * Routes a batch to the backend its settings resolve to (group > per-kind default >
 * engine default > built-in `local`); refuses a frame-deadline kind on `bullmq` with
 * `FRAME_DEADLINE_REMOTE`.
 */
export { JobGroups } from './groups.js';
/** The `inline` (calling thread) and `local` (the engine's worker threads) batch backends. */
export { EngineBackend } from './engine-backend.js';
/** The typed error of backends and groups; match on `code`. */
export { BackendError } from './errors.js';
export type { JobGroupsOptions, GroupConfig, ResolvedGroupConfig, GroupRun } from './groups.js';
export type { EngineBackendOptions } from './engine-backend.js';
export type { BackendErrorCode } from './errors.js';
export type { Task, TaskStatus, TaskResult, TaskSource, BatchRun, BatchSummary, BackendName, BatchBackend } from './types.js';

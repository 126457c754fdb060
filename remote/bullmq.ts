/**
 * `framejobs/remote/bullmq`: batches on a BullMQ queue over Redis, and the remote worker
 * that runs them (`npx framejobs worker` is this worker from the command line). Needs the
 * optional peers `bullmq` and `ioredis`.
 *
 *   import { BullmqBackend } from 'framejobs/remote/bullmq';
 */

/**
 * The coordinator: queues a batch's tasks, applies the first result of each exactly once
 * in index order, and resumes a killed run by its `runId`. Connect with
 * `BullmqBackend.connect({ redis, kinds })`.
 */
export { BullmqBackend } from './bullmq-backend.js';
/** A worker process's side: takes tasks from the queue and runs them on an EngineCore of its own. */
export { RemoteWorker } from './remote-worker.js';
export type { BullmqBackendOptions } from './bullmq-backend.js';
export type { RemoteWorkerOptions, WorkerLogEvent } from './remote-worker.js';

/**
 * `framejobs/worker`: what a worker entry imports. See serveWorker.
 */
export { serveWorker } from './serve-worker.js';

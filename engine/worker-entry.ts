/**
 * The engine's own worker entry (`framejobs/worker-entry`), for the URL route: the
 * default on Node, where it serves the built-in kinds and `kindModules`. It starts
 * itself when loaded as a worker; a bundled app writes its own entry that calls
 * serveWorker (framejobs/worker) with its kinds instead.
 */
import { platform } from '#platform';
import { serveWorker } from './serve-worker.js';

export type { WorkerInit, WorkerMessage } from './serve-worker.js';

/** Serves the engine with the built-in kinds and the init's kind modules. */
export const runWorker = (): Promise<void> => serveWorker();

const node = platform.nodeWorkerScope();
const inWebWorker =
  node === null && typeof (globalThis as { document?: unknown }).document === 'undefined' && typeof (globalThis as { postMessage?: unknown }).postMessage === 'function';
if (node !== null ? !node.isMainThread && (node.workerData as { type?: unknown } | undefined)?.type === 'framejobs-init' : inWebWorker) {
  await runWorker();
}

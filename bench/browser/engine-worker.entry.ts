/**
 * The engine's Web Worker for the bench page (bundled to dist/bench-web/engine-worker.entry.js):
 * the built-in kinds (`noop`, `compute-heavy`) are all the bench needs, so this is the
 * plain worker entry, built beside the bench page so the page can name it by a sibling URL.
 */
import { serveWorker } from '../../engine/worker.js';

await serveWorker();

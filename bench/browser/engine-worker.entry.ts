/**
 * The engine's Web Worker for the bench page (bundled to dist/bench-web/engine-worker.entry.js):
 * the same worker entry the debug panel uses, built beside the bench page so the page
 * can name it by a sibling URL.
 */
import '../../panel/worker.entry.js';

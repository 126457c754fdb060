/**
 * The browser worker entry (bundled to dist/web/worker.entry.js). The panel loads its
 * kinds by URL (kindModules), so it serves the built-in kinds plus those; serveWorker
 * takes the Web Lock the browser host watches.
 */
import { serveWorker } from '../engine/worker.js';

await serveWorker();

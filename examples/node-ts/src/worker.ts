// The worker entry: imports the kinds statically and serves the engine.
import { serveWorker } from 'framejobs/worker';
import { kinds } from './kinds.js';

void serveWorker(kinds);

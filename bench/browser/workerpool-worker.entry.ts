/** workerpool's side of the bench (dist/bench-web/workerpool-worker.entry.js): one registered tiny function. */
import { worker } from 'workerpool';
import { tinyAdd } from './tiny.js';

worker({ add: tinyAdd });

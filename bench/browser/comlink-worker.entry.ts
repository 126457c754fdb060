/** comlink's side of the bench (dist/bench-web/comlink-worker.entry.js): one exposed tiny function. */
import { expose } from 'comlink';
import { tinyAdd } from './tiny.js';

expose({ add: tinyAdd });

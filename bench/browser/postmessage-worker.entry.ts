/**
 * The bare postMessage peer (dist/bench-web/postmessage-worker.entry.js): a message
 * `[id, a, b]` is answered `[id, a + b]`, with nothing around it: no ids to promises, no
 * proxies, no queue. The floor of what any message-passing pool can do.
 */
import { tinyAdd } from './tiny.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<[number, number, number]>) => void) | null;
  postMessage(m: unknown): void;
}
const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (e) => {
  const m = e.data;
  scope.postMessage([m[0], tinyAdd(m[1], m[2])]);
};

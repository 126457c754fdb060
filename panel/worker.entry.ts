/**
 * The browser worker entry (bundled to dist/web/worker.entry.js): the engine's own worker
 * entry, which reads its init from the first message when there is no Node workerData.
 * A bundle of its own because esbuild does not follow `new Worker(new URL(...))`.
 *
 * Before the engine's worker code starts (and, in its job loop, stops returning to the
 * event loop), the worker takes the Web Lock named in its init and holds it for life:
 * the browser host (engine/host-browser.ts) learns that this thread has really stopped
 * when that lock is released, which a browser does only once the worker is gone.
 */
import { LIFE_LOCK_FIELD } from '../engine/host-browser.js';
import { runWorker } from '../engine/worker-entry.js';

interface Scope {
  addEventListener(t: 'message', f: (e: MessageEvent) => void, o?: { once: boolean }): void;
  dispatchEvent(e: Event): boolean;
  navigator?: { locks?: { request(name: string, cb: () => Promise<void>): Promise<unknown> } };
}
const scope = globalThis as unknown as Scope;

const init = await new Promise<unknown>((resolve) => scope.addEventListener('message', (e) => resolve(e.data), { once: true }));
const lockName = (init as Record<string, unknown> | null)?.[LIFE_LOCK_FIELD];
const locks = scope.navigator?.locks;
if (typeof lockName === 'string' && locks) {
  await new Promise<void>((held) => {
    // The callback's promise never settles: the lock is released only when this thread ends.
    void locks.request(lockName, () => {
      held();
      return new Promise<void>(() => {});
    });
  });
}
// runWorker registers its message listener synchronously, before its first await, so the
// init re-dispatched right after it reaches the engine's worker code as its first message.
const done = runWorker();
scope.dispatchEvent(new MessageEvent('message', { data: init }));
await done;

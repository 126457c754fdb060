/**
 * The browser worker host: the engine's WorkerHost over Web Workers, the twin of the
 * Node host (host-node.ts) behind the same interface.
 *
 * How it differs from the Node host, and why:
 * - Workers come from the caller's workerFactory (`() => new Worker(new URL('./worker.ts',
 *   import.meta.url), { type: 'module' })`, which every bundler follows) or are module
 *   workers on a URL; their entry calls serveWorker (serve-worker.ts). The init message
 *   goes by postMessage, since there is no workerData. SharedArrayBuffers in it are
 *   shared, not copied, only when the page is cross-origin isolated (see
 *   isolationStatus in host.ts).
 * - `resourceLimits` does nothing: browsers give pages no per-worker heap limit, and an
 *   out-of-memory worker is never reported as such (the tab's renderer decides).
 * - A browser has no exit event, and Worker.terminate() returns before the thread has
 *   stopped: a terminated worker can still run for a moment, and the engine must not
 *   recover a worker's rings while it can still write them. So each worker holds a Web
 *   Lock (unique name per spawn, taken by serveWorker before the engine's worker code
 *   starts); the browser releases it only when the worker's thread is gone.
 *   After terminate() the host asks for the same lock and reports the exit when it is
 *   granted: that is the browser's exit event. Without Web Locks (or if the lock is not
 *   granted within EXIT_CONFIRM_MS) the exit is reported after that cap, which is longer
 *   than Chromium's own forced-termination delay.
 * - A worker is seen to end when the engine terminates it (reason `terminated`), when it
 *   stops by itself after the engine told it to (its last message is EXIT_MESSAGE; reason
 *   `exit`, code 0), or when an uncaught error reaches `onerror` (reason `error`); in the
 *   last case this host terminates it, so that, as on Node, an uncaught error ends the
 *   thread. Each is reported once the worker's lock is free, so shutdown resolves as
 *   soon as the workers are gone. The exit code is -1 (unknown) except for `exit`.
 *
 * Threads: every method runs on the thread that owns the engine (normally the page's main
 * thread). Nothing here blocks: the browser main thread never calls Atomics.wait.
 */
import type { EngineOptions, HostedWorker, WorkerHost, WorkerHostCallbacks, WorkerSource } from './api.js';
import { asError } from './errors.js';

/**
 * Longest wait for a terminated worker's lock before its exit is reported anyway, ms.
 * Chromium lets a terminated worker that is busy in script run for up to 2 s before it
 * forces it to stop, so the cap must be longer than that.
 */
export const EXIT_CONFIRM_MS = 5000;
/** Field added to the init message: the Web Lock name the worker holds while it lives. */
export const LIFE_LOCK_FIELD = 'framejobsLifeLock';
/** `type` of the last message a worker posts when its job loop has ended and it closes itself. */
export const EXIT_MESSAGE = 'framejobs-exit';

interface LockManagerLike {
  request(name: string, cb: () => Promise<void> | void): Promise<unknown>;
}
const locks = (): LockManagerLike | null => (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks ?? null;
const pageId = Math.random().toString(36).slice(2);

/** True when this realm can start module Web Workers (a page or a dedicated worker). */
export function hasWebWorkers(): boolean {
  return typeof Worker === 'function';
}

let spawned = 0;

function describeError(ev: Event | ErrorEvent): { message: string; stack: string } {
  const e = ev as ErrorEvent;
  if (typeof e.message === 'string' && e.message !== '') {
    const where = e.filename ? `\n    at ${e.filename}:${e.lineno}:${e.colno}` : '';
    const stack = e.error instanceof Error && typeof e.error.stack === 'string' ? e.error.stack : `${e.message}${where}`;
    return { message: e.message, stack };
  }
  // A module worker whose script fails to load or parse gets a bare Event: no message, no stack.
  return {
    message: 'worker script failed to load (network error, wrong content type, or a syntax error in the bundle)',
    stack: '',
  };
}

class BrowserHostedWorker implements HostedWorker {
  private readonly worker: Worker;
  private readonly cb: WorkerHostCallbacks;
  private ended = false;
  private readonly lockName: string;
  private readonly exited: Promise<void>;
  private exitedResolve: () => void = () => {};

  constructor(worker: Worker, init: unknown, cb: WorkerHostCallbacks, lockName: string) {
    this.cb = cb;
    this.lockName = lockName;
    this.exited = new Promise<void>((r) => (this.exitedResolve = r));
    this.worker = worker;
    this.worker.onmessage = (ev: MessageEvent) => {
      if (this.ended) return;
      if ((ev.data as { type?: unknown } | null)?.type === EXIT_MESSAGE) this.end('exit');
      else cb.onMessage(ev.data);
    };
    this.worker.onmessageerror = () => {
      if (!this.ended) cb.onError('a message from the worker could not be deserialised', '');
    };
    this.worker.onerror = (ev: Event) => {
      // Stops the browser printing it as an unhandled page error: the engine reports it.
      ev.preventDefault();
      if (this.ended) return;
      const { message, stack } = describeError(ev);
      cb.onError(message, stack);
      this.end('error');
    };
    // ORDERING: messages posted before the worker's script has run are queued until it has
    // been evaluated; serveWorker registers its listener during evaluation, so the init
    // cannot be lost.
    const message = typeof init === 'object' && init !== null ? { ...init, [LIFE_LOCK_FIELD]: this.lockName } : init;
    this.worker.postMessage(message);
  }

  private end(reason: 'error' | 'terminated' | 'exit'): void {
    if (this.ended) return;
    this.ended = true;
    this.worker.terminate();
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.onmessageerror = null;
    let reported = false;
    const report = (): void => {
      if (reported) return;
      reported = true;
      clearTimeout(cap);
      // Always from a task of its own, never from inside the engine's terminate() call,
      // like Node's asynchronous 'exit' event.
      this.cb.onExit(reason === 'exit' ? 0 : -1, reason);
      this.exitedResolve();
    };
    const cap = setTimeout(report, EXIT_CONFIRM_MS);
    const lm = locks();
    // ORDERING: granted only after the worker's agent is gone, so nothing the worker
    // could still write to shared memory is in flight when the engine recovers its rings.
    // The host then keeps the lock for good: a worker terminated before it took the lock
    // (during init) waits for it forever instead of starting the job loop as a zombie.
    // Without Web Locks, only the cap reports the exit.
    if (lm) {
      lm.request(this.lockName, () => {
        setTimeout(report, 0);
        return new Promise<void>(() => {});
      }).catch(() => setTimeout(report, 0));
    }
  }

  /** Resolves once the exit has been reported (the thread has stopped, or the cap passed). */
  terminate(): Promise<void> {
    this.end('terminated');
    return this.exited;
  }
}

/** Reports a worker that never started, from a later task, as onError then onExit. */
class FailedWorker implements HostedWorker {
  constructor(cb: WorkerHostCallbacks, err: unknown) {
    const e = asError(err);
    setTimeout(() => {
      cb.onError(e.message, e.stack ?? e.message);
      cb.onExit(-1, 'error');
    }, 0);
  }
  terminate(): Promise<void> {
    return Promise.resolve();
  }
}

const isWebWorker = (w: unknown): w is Worker =>
  typeof w === 'object' && w !== null && typeof (w as Worker).postMessage === 'function' && typeof (w as Worker).terminate === 'function' && 'onmessage' in w;

/** The Web Worker host. `resourceLimits` is accepted and ignored (see the file comment). */
export const browserHost: WorkerHost = {
  name: 'browser',
  spawn(source: WorkerSource, init: unknown, cb: WorkerHostCallbacks, _resourceLimits?: EngineOptions['resourceLimits']): HostedWorker {
    const n = spawned++;
    let worker: Worker;
    try {
      if (typeof source === 'function') {
        const made: unknown = source();
        if (!isWebWorker(made)) throw new TypeError('workerFactory must return a Web Worker in a browser');
        worker = made;
      } else {
        worker = new Worker(source, { type: 'module', name: `framejobs-${n}` });
      }
    } catch (err) {
      return new FailedWorker(cb, err);
    }
    return new BrowserHostedWorker(worker, init, cb, `framejobs-worker-${pageId}-${n}`);
  },
};

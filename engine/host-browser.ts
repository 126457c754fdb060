/**
 * The browser worker host: the engine's WorkerHost over Web Workers, the twin of the
 * Node host (host-node.ts) behind the same interface.
 *
 * How it differs from the Node host, and why:
 * - Workers are module workers (`new Worker(url, { type: 'module' })`) loading a bundled
 *   entry (dist/web/worker.entry.js); the init message goes by postMessage, since there is
 *   no workerData. SharedArrayBuffers in it are shared, not copied, only when the page is
 *   cross-origin isolated (see isolationStatus in host.ts).
 * - `resourceLimits` does nothing: browsers give pages no per-worker heap limit, and an
 *   out-of-memory worker is never reported as such (the tab's renderer decides).
 * - A browser has no exit event. A worker is seen to end when the engine terminates it
 *   (reason `terminated`) or when an uncaught error reaches `onerror` (reason `error`);
 *   in the second case this host terminates it, so that, as on Node, an uncaught error
 *   ends the thread. The exit code is always -1 (unknown).
 * - `terminate()` cannot be awaited in a browser; it resolves after a short grace period
 *   (TERMINATE_GRACE_MS), by which time the thread has stopped running script.
 *
 * Threads: every method runs on the thread that owns the engine (normally the page's main
 * thread). Nothing here blocks: the browser main thread never calls Atomics.wait.
 */
import type { EngineOptions, HostedWorker, WorkerHost, WorkerHostCallbacks } from './api.js';

/** How long terminate() waits before resolving, in ms. */
export const TERMINATE_GRACE_MS = 50;

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

  constructor(url: string | URL, init: unknown, cb: WorkerHostCallbacks) {
    this.cb = cb;
    this.worker = new Worker(url, { type: 'module', name: `framejobs-${spawned++}` });
    this.worker.onmessage = (ev: MessageEvent) => {
      if (!this.ended) cb.onMessage(ev.data);
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
    // ORDERING: messages posted before the worker's module has run are queued by the
    // browser and delivered to the first `message` listener, so init cannot be lost.
    this.worker.postMessage(init);
  }

  private end(reason: 'error' | 'terminated'): void {
    if (this.ended) return;
    this.ended = true;
    this.worker.terminate();
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.onmessageerror = null;
    // Reported from a task of its own so the callback never re-enters the engine from
    // inside the engine's own terminate() call, matching Node's asynchronous 'exit' event.
    setTimeout(() => this.cb.onExit(-1, reason), 0);
  }

  terminate(): Promise<void> {
    this.end('terminated');
    return new Promise((resolve) => setTimeout(resolve, TERMINATE_GRACE_MS));
  }
}

/** The Web Worker host. `resourceLimits` is accepted and ignored (see the file comment). */
export const browserHost: WorkerHost = {
  name: 'browser',
  spawn(url: string | URL, init: unknown, cb: WorkerHostCallbacks, _resourceLimits?: EngineOptions['resourceLimits']): HostedWorker {
    return new BrowserHostedWorker(url, init, cb);
  },
  now(): number {
    return performance.timeOrigin + performance.now();
  },
};

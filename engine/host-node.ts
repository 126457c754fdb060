/**
 * The Node worker host: worker_threads behind the WorkerHost interface (api.ts).
 * Exit is observed directly (the 'exit' event), so a crashed worker is seen at once;
 * a worker that hits its resourceLimits is reported with reason 'out-of-memory'.
 *
 * Threads: main thread (the engine's) only.
 */
import { Worker } from 'node:worker_threads';
import type { EngineOptions, HostedWorker, WorkerHost, WorkerHostCallbacks } from './api.js';

class NodeHostedWorker implements HostedWorker {
  private readonly worker: Worker;
  private terminating = false;
  private outOfMemory = false;
  private readonly exited: Promise<void>;

  constructor(url: string | URL, init: unknown, cb: WorkerHostCallbacks, limits?: EngineOptions['resourceLimits']) {
    this.worker = new Worker(typeof url === 'string' && !url.startsWith('file:') ? url : new URL(url), {
      workerData: init,
      ...(limits ? { resourceLimits: limits } : {}),
    });
    this.worker.on('message', (m: unknown) => cb.onMessage(m));
    this.worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') this.outOfMemory = true;
      cb.onError(e.message, e.stack ?? e.message);
    });
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code: number) => {
        const reason = this.outOfMemory ? 'out-of-memory' : this.terminating ? 'terminated' : code === 0 ? 'exit' : 'error';
        cb.onExit(code, reason);
        resolve();
      });
    });
  }

  terminate(): Promise<void> {
    this.terminating = true;
    void this.worker.terminate();
    return this.exited;
  }
}

export const nodeHost: WorkerHost = {
  name: 'node',
  spawn: (url, init, cb, limits) => new NodeHostedWorker(url, init, cb, limits),
};

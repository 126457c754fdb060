/**
 * The Node worker host: worker_threads behind the WorkerHost interface (api.ts).
 * Exit is observed directly (the 'exit' event), so a crashed worker is seen at once;
 * a worker that hits its resourceLimits is reported with reason 'out-of-memory'.
 *
 * A worker from a URL gets its init as workerData; a worker from a factory (which the
 * caller constructed, so no workerData) gets it as its first message. Either way the
 * worker entry's serveWorker() reads it.
 *
 * Threads: main thread (the engine's) only.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { EngineOptions, HostedWorker, WorkerHost, WorkerHostCallbacks, WorkerSource } from './api.js';
import { asError } from './errors.js';

/** Reports a worker that never started, from a later task, as onError then onExit. */
class FailedWorker implements HostedWorker {
  constructor(cb: WorkerHostCallbacks, err: unknown) {
    const e = asError(err);
    setImmediate(() => {
      cb.onError(e.message, e.stack ?? e.message);
      cb.onExit(1, 'error');
    });
  }
  terminate(): Promise<void> {
    return Promise.resolve();
  }
}

const isNodeWorker = (w: unknown): w is Worker =>
  typeof w === 'object' && w !== null && typeof (w as Worker).on === 'function' && typeof (w as Worker).postMessage === 'function' && typeof (w as Worker).terminate === 'function';

function hint(e: Error & { code?: string }): Error {
  if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_WORKER_PATH' || e.code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    e.message +=
      ' (the worker entry must be JavaScript Node can load: in a bundled app pass workerFactory, a function that constructs a worker from your own entry calling serveWorker)';
  }
  return e;
}

class NodeHostedWorker implements HostedWorker {
  private readonly worker: Worker;
  private terminating = false;
  private outOfMemory = false;
  private readonly exited: Promise<void>;

  constructor(worker: Worker, cb: WorkerHostCallbacks) {
    this.worker = worker;
    this.worker.on('message', (m: unknown) => cb.onMessage(m));
    this.worker.on('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') this.outOfMemory = true;
      hint(e);
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

const isInputType = (flag: string): boolean => flag === '--input-type' || flag.startsWith('--input-type=');

/**
 * A Node worker for `url`. Workers inherit the parent's flags, and Node refuses
 * `--input-type` in a worker: a parent started as `node --input-type=module -e ...`
 * would fail every worker at start. Only then is the list given explicitly, without it.
 * An explicit list may not hold V8 flags (`--expose-gc`, ...); those are process-wide
 * and reach the worker anyway, so the ones Node names are dropped and the worker made
 * again.
 */
function nodeWorker(url: string | URL, options: WorkerOptions): Worker {
  const argv = process.execArgv;
  if (!argv.some(isInputType)) return new Worker(url, options);
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!isInputType(argv[i])) kept.push(argv[i]);
  }
  try {
    return new Worker(url, { ...options, execArgv: kept });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    const refused = new Set(/flags: (.*)$/.exec((err as Error).message)?.[1]?.split(', ') ?? kept);
    return new Worker(url, { ...options, execArgv: kept.filter((f) => !refused.has(f)) });
  }
}

function spawn(source: WorkerSource, init: unknown, cb: WorkerHostCallbacks, limits?: EngineOptions['resourceLimits']): HostedWorker {
  let worker: Worker;
  try {
    if (typeof source === 'function') {
      const made: unknown = source();
      if (!isNodeWorker(made)) throw new TypeError('workerFactory must return a worker_threads Worker on Node');
      worker = made;
      // ORDERING: a port queues messages until the worker listens, so the init is not lost
      // however long the worker takes to load its modules.
      worker.postMessage(init);
    } else {
      const url = typeof source === 'string' && !source.startsWith('file:') ? source : new URL(source);
      worker = nodeWorker(url, { workerData: init, ...(limits ? { resourceLimits: limits } : {}) });
    }
  } catch (err) {
    return new FailedWorker(cb, err instanceof Error ? hint(err) : err);
  }
  return new NodeHostedWorker(worker, cb);
}

export const nodeHost: WorkerHost = { name: 'node', spawn };

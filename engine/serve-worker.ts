/**
 * The worker side of the engine, for Node worker_threads and browser Web Workers alike.
 * A worker entry is one call:
 *
 *   // worker.ts
 *   import { serveWorker } from 'framejobs/worker';
 *   import { kinds } from './kinds.js';
 *   serveWorker(kinds);
 *
 * serveWorker reads the engine's init (Node: workerData, or the first message when a
 * workerFactory made the worker; browser: the first message), checks the shared
 * buffer's layout, registers the built-in kinds, then `kinds`, then the init's kind
 * modules, runs every kind's init, says `ready`, and runs the job loop until the engine
 * stops. Then it cleans up and closes the thread.
 *
 * In a browser it first takes the Web Lock the browser host names in the init and holds
 * it for the thread's life: the host learns that this thread has really stopped when the
 * lock is released (see host-browser.ts). Its last message, EXIT_MESSAGE, tells the host
 * it is stopping by itself, so shutdown does not wait for a timeout.
 */
import { platform } from '#platform';
import type { WorkerEnv, JobKind } from './kind.js';
import { EngineError } from './errors.js';
import { describeThrown } from './error-text.js';
import { EXIT_MESSAGE, LIFE_LOCK_FIELD } from './host-browser.js';
import { readHeader } from './layout.js';
import { loadKinds } from './registry.js';
import { arenaViews } from './layout.js';
import { cleanupKinds, initKinds } from './kind-runtime.js';
import { JobRunner } from './worker-loop.js';

/** Niceness of a worker thread while it runs background-lane work: the lowest priority. */
const BACKGROUND_NICE = 19;

/**
 * Gives the thread its niceness, and drops it to BACKGROUND_NICE for background-lane
 * jobs, but only where it may come back up afterwards (raising priority needs a
 * privilege most processes lack); otherwise every job keeps the worker's niceness.
 * Niceness 0 means no game loop shares the process (a sweep, a remote worker): then
 * background jobs are its main work and keep their priority too; at 19 they would
 * crawl behind any other busy process on the machine.
 */
function setPriorities(runner: JobRunner, nice: number): void {
  const setNice = platform.threadNice();
  if (setNice === null || nice === 0) return;
  setNice(nice);
  if (BACKGROUND_NICE > nice && setNice(nice + 1) && setNice(nice)) {
    runner.onLane = (background) => {
      setNice(background ? BACKGROUND_NICE : nice);
    };
  }
}

/** What the engine sends each worker at spawn. Plain data: it crosses a thread boundary. */
export interface WorkerInit {
  readonly type: 'framejobs-init';
  readonly sab: SharedArrayBuffer;
  readonly workerIndex: number;
  readonly kindModules: readonly string[];
  readonly kindNames: readonly string[];
  readonly shared: Readonly<Record<string, SharedArrayBuffer>>;
  readonly config: Readonly<Record<string, unknown>>;
  /** Niceness to give this thread (Node on Linux); 0 leaves it alone. */
  readonly nice: number;
}

export type WorkerMessage =
  | { type: 'ready'; workerIndex: number }
  | { type: 'init-error'; workerIndex: number; code: string; message: string; stack: string };

interface Channel {
  readonly init: Promise<unknown>;
  post(msg: unknown): void;
  close(): void;
}

interface WebWorkerScope {
  postMessage(m: unknown): void;
  addEventListener(t: 'message', f: (e: MessageEvent) => void, o?: { once: boolean }): void;
  close(): void;
  navigator?: { locks?: { request(name: string, cb: () => Promise<void>): Promise<unknown> } };
}

const isInit = (m: unknown): m is WorkerInit => (m as { type?: unknown } | null)?.type === 'framejobs-init';

/** Set while a worker is being served: a second serveWorker call in the same thread is refused. */
let serving = false;

function channel(): Channel {
  const node = platform.nodeWorkerScope();
  if (node !== null) {
    const port = node.port;
    if (node.isMainThread || port === null) {
      throw new EngineError('INVALID_OPTION', 'serveWorker runs inside a worker thread, not on the main thread');
    }
    return {
      // A worker made from a URL has its init as workerData; one a factory made gets it by message.
      init: isInit(node.workerData) ? Promise.resolve(node.workerData) : new Promise((resolve) => port.once('message', resolve)),
      post: (m) => port.postMessage(m),
      close: () => port.close(),
    };
  }
  const scope = globalThis as unknown as WebWorkerScope;
  if (typeof scope.addEventListener !== 'function' || typeof scope.postMessage !== 'function' || typeof (globalThis as { document?: unknown }).document !== 'undefined') {
    throw new EngineError('INVALID_OPTION', 'serveWorker runs inside a worker (a Web Worker or a worker_threads Worker)');
  }
  return {
    // ORDERING: registered synchronously by serveWorker, during the entry's evaluation,
    // so the init the host posted at spawn is delivered here.
    init: new Promise((resolve) => scope.addEventListener('message', (e) => resolve(e.data), { once: true })),
    post: (m) => scope.postMessage(m),
    close: () => scope.close(),
  };
}

/** Takes and holds, for the thread's life, the Web Lock named in the init (browser only). */
async function holdLifeLock(init: unknown): Promise<void> {
  const lockName = (init as Record<string, unknown> | null)?.[LIFE_LOCK_FIELD];
  const locks = (globalThis as unknown as WebWorkerScope).navigator?.locks;
  if (typeof lockName !== 'string' || !locks) return;
  await new Promise<void>((held) => {
    // The callback's promise never settles: the lock is released only when this thread ends.
    void locks.request(lockName, () => {
      held();
      return new Promise<void>(() => {});
    });
  });
}

/**
 * Serves the engine from this worker until it shuts down. Call it once, synchronously,
 * at the top of the worker entry, with the same kinds (same order) the main thread
 * passes to `EngineCore.start({ kinds })`. Resolves when the worker has stopped.
 * Errors during init are sent to the engine, whose start() rejects with them.
 */
export function serveWorker(kinds: readonly JobKind<any, any, any>[] = []): Promise<void> {
  if (serving) return Promise.reject(new EngineError('INVALID_OPTION', 'serveWorker was already called in this worker'));
  let ch: Channel;
  try {
    ch = channel();
  } catch (err) {
    return Promise.reject(err);
  }
  serving = true;
  return serve(ch, kinds);
}

async function serve(ch: Channel, given: readonly JobKind<any, any, any>[]): Promise<void> {
  const init = await ch.init;
  await holdLifeLock(init);
  let runner: JobRunner;
  let runtimes: Awaited<ReturnType<typeof initKinds>>;
  let workerIndex = -1;
  try {
    if (!isInit(init)) throw new EngineError('LAYOUT_MISMATCH', 'worker was not given a framejobs init message');
    workerIndex = init.workerIndex;
    const layout = readHeader(init.sab);
    if (!(init.workerIndex >= 0 && init.workerIndex < layout.workerCount)) {
      throw new EngineError('LAYOUT_MISMATCH', `worker index ${init.workerIndex} is outside the buffer's ${layout.workerCount} workers`);
    }
    const kinds = await loadKinds(init.kindModules, given);
    const names = kinds.list.map((k) => k.name).join(',');
    if (names !== init.kindNames.join(',')) {
      throw new EngineError(
        'LAYOUT_MISMATCH',
        `worker sees kinds [${names}] but the engine registered [${init.kindNames.join(',')}]: give serveWorker the same kinds, in the same order, as EngineCore.start({ kinds })`,
      );
    }
    const env: WorkerEnv = { workerIndex: init.workerIndex, shared: init.shared, config: init.config };
    runtimes = await initKinds(kinds.list, env, arenaViews(init.sab, layout));
    runner = new JobRunner(init.sab, layout, init.workerIndex, init.workerIndex, runtimes);
    setPriorities(runner, init.nice);
  } catch (err) {
    // Read so that nothing thrown here can throw again (describeThrown reads each field once, guarded).
    let code: unknown;
    let message: unknown;
    try {
      code = (err as { code?: unknown } | null)?.code;
      message = (err as { message?: unknown } | null)?.message;
    } catch {
      code = undefined;
    }
    const d = describeThrown(err);
    const msg: WorkerMessage = {
      type: 'init-error',
      workerIndex,
      code: typeof code === 'string' ? code : 'WORKER_INIT_FAILED',
      message: typeof message === 'string' ? message : d.message,
      stack: d.stack,
    };
    ch.post(msg);
    ch.close();
    return;
  }
  ch.post({ type: 'ready', workerIndex: init.workerIndex } satisfies WorkerMessage);
  runner.runForever();
  cleanupKinds(runtimes);
  // The job loop has ended and nothing here touches shared memory any more.
  ch.post({ type: EXIT_MESSAGE });
  ch.close();
}

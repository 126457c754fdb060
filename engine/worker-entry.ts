/**
 * Worker thread entry, the same file for Node worker_threads and browser Web Workers.
 * It reads its init (Node: workerData; browser: the first message), checks the shared
 * buffer's layout, imports the kind modules, runs every kind's init, says `ready`,
 * then runs the job loop until the engine stops.
 */
import type { WorkerEnv } from './kind.js';
import { EngineError } from './errors.js';
import { readHeader } from './layout.js';
import { loadKinds } from './registry.js';
import { arenaViews } from './layout.js';
import { cleanupKinds, initKinds } from './kind-runtime.js';
import { JobRunner } from './worker-loop.js';

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
  init: Promise<WorkerInit>;
  post(msg: WorkerMessage): void;
  close(): void;
}

async function channel(): Promise<Channel> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof proc?.versions?.node === 'string') {
    const wt = await import('node:worker_threads');
    const port = wt.parentPort;
    if (!port) throw new Error('worker-entry must run in a worker thread');
    return {
      init: Promise.resolve(wt.workerData as WorkerInit),
      post: (m) => port.postMessage(m),
      close: () => port.close(),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(m: unknown): void;
    addEventListener(t: 'message', f: (e: MessageEvent) => void, o?: { once: boolean }): void;
    close(): void;
  };
  return {
    init: new Promise<WorkerInit>((resolve) => scope.addEventListener('message', (e) => resolve(e.data as WorkerInit), { once: true })),
    post: (m) => scope.postMessage(m),
    close: () => scope.close(),
  };
}


/** Runs a worker to completion. Exported so a browser bundle's worker entry can call it. */
export async function runWorker(): Promise<void> {
  const ch = await channel();
  const init = await ch.init;
  let runner: JobRunner;
  let runtimes: Awaited<ReturnType<typeof initKinds>>;
  try {
    if (init?.type !== 'framejobs-init') throw new EngineError('LAYOUT_MISMATCH', 'worker was not given a framejobs init message');
    const layout = readHeader(init.sab);
    if (!(init.workerIndex >= 0 && init.workerIndex < layout.workerCount)) {
      throw new EngineError('LAYOUT_MISMATCH', `worker index ${init.workerIndex} is outside the buffer's ${layout.workerCount} workers`);
    }
    const kinds = await loadKinds(init.kindModules);
    const names = kinds.list.map((k) => k.name).join(',');
    if (names !== init.kindNames.join(',')) {
      throw new EngineError('LAYOUT_MISMATCH', `worker sees kinds [${names}] but the engine registered [${init.kindNames.join(',')}]`);
    }
    const env: WorkerEnv = { workerIndex: init.workerIndex, shared: init.shared, config: init.config };
    runtimes = await initKinds(kinds.list, env, arenaViews(init.sab, layout));
    runner = new JobRunner(init.sab, layout, init.workerIndex, init.workerIndex, runtimes);
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; stack?: unknown };
    ch.post({
      type: 'init-error',
      workerIndex: init?.workerIndex ?? -1,
      code: typeof e?.code === 'string' ? e.code : 'WORKER_INIT_FAILED',
      message: typeof e?.message === 'string' ? e.message : String(err),
      stack: typeof e?.stack === 'string' ? e.stack : '',
    });
    ch.close();
    return;
  }
  await lowerPriority(init.nice);
  ch.post({ type: 'ready', workerIndex: init.workerIndex });
  runner.runForever();
  cleanupKinds(runtimes);
  ch.close();
}

/**
 * Lowers this thread's scheduling priority. On Linux a thread id is a valid target for
 * setpriority and affects that thread alone, so the game loop's thread keeps its own.
 */
async function lowerPriority(nice: number): Promise<void> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; platform?: string } }).process;
  if (!(nice > 0) || typeof proc?.versions?.node !== 'string' || proc.platform !== 'linux') return;
  try {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, nice);
  } catch {
    // No /proc, or not permitted: the worker runs at normal priority.
  }
}

// Node loads this file directly as the worker; the browser bundle imports and calls runWorker.
const isNodeWorker = async (): Promise<boolean> => {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof proc?.versions?.node !== 'string') return false;
  const wt = await import('node:worker_threads');
  return !wt.isMainThread && (wt.workerData as WorkerInit | undefined)?.type === 'framejobs-init';
};
if (await isNodeWorker()) await runWorker();

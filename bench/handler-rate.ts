/**
 * The machine's limit for COMPUTE_HEAVY measured with every core busy at once: one plain
 * worker thread per core, each running the handler back to back (handlerRate), started
 * together. The limit (one thread's rate times the cores) assumes the cores are
 * independent; on a virtual machine whose cores share a physical one, or a host that is
 * busy, they are not, and this is what the hardware actually gives the burst.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../engine/paths.js';

export interface HandlerRateInit {
  readonly go: SharedArrayBuffer;
  readonly seed: number;
}

/** Sum of `threads` concurrent handler rates, jobs/s (each the best of its windows). */
export async function concurrentHandlerRate(threads: number, seed: number): Promise<number> {
  const go = new SharedArrayBuffer(4);
  const workers = Array.from({ length: threads }, () => new Worker(builtModuleUrl(import.meta.url, './handler-rate-worker.js'), { workerData: { go, seed } satisfies HandlerRateInit }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      w.once('online', () => resolve());
      w.once('error', reject);
    })));
    const rates = workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', (m: unknown) => resolve(Number(m)));
      w.once('error', reject);
    }));
    const flag = new Int32Array(go);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    return (await Promise.all(rates)).reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The handler's rate on each core alone, one core after another: a process pinned to
 * core k with `taskset`, the others idle. Tells a slow core from a busy machine: on a
 * virtual machine one core can run at a fraction of another's speed (its host thread
 * shared with a neighbour), and then one thread's rate times the cores is out of reach.
 * Null where `taskset` is missing (not Linux, no util-linux) or a run fails.
 */
export function perCoreHandlerRates(cores: number, seed: number): number[] | null {
  const child = fileURLToPath(builtModuleUrl(import.meta.url, './handler-rate-child.js'));
  const rates: number[] = [];
  for (let k = 0; k < cores; k++) {
    const r = spawnSync('taskset', ['-c', String(k), process.execPath, child, String(seed)], { encoding: 'utf8', timeout: 30_000 });
    const rate = Number(r.stdout);
    if (r.status !== 0 || !(rate > 0)) return null;
    rates.push(rate);
  }
  return rates;
}

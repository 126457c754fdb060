/**
 * The machine's limit for COMPUTE_HEAVY measured other ways than one thread's rate times
 * the cores, which assumes the cores are independent and equally fast; on a virtual
 * machine whose cores share a physical one, or a host that is busy, they are not.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { builtModuleUrl } from '../engine/paths.js';

export interface HandlerRateInit {
  /** Int32 words HR_*. */
  readonly flags: SharedArrayBuffer;
  readonly seed: number;
}

/** Threads warmed up and waiting. */
export const HR_READY = 0;
/** Set to 1 to start every thread at once. */
export const HR_GO = 1;
/** Set to 1 to end the window. */
export const HR_STOP = 2;

/**
 * COMPUTE_HEAVY jobs per second that `threads` plain worker threads, each running the
 * handler back to back with no engine in between, do together in one common window of
 * `ms` (all start on one signal and stop on another; what each did is summed). With as
 * many threads as cores it is what the hardware gives the burst; with as many as the
 * burst's workers, what that many threads on these cores give with nothing else in the way.
 */
export async function concurrentHandlerRate(threads: number, seed: number, ms = 1000): Promise<number> {
  const flags = new SharedArrayBuffer(12);
  const f = new Int32Array(flags);
  const workers = Array.from({ length: threads }, () => new Worker(builtModuleUrl(import.meta.url, './handler-rate-worker.js'), { workerData: { flags, seed } satisfies HandlerRateInit }));
  try {
    const counts = workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', (m: unknown) => resolve(Number(m)));
      w.once('error', reject);
    }));
    // Every thread is warm before the window opens (a worker that fails rejects its count).
    const ready = (async (): Promise<void> => {
      while (Atomics.load(f, HR_READY) < threads) await new Promise((r) => setTimeout(r, 5));
    })();
    await Promise.race([ready, Promise.all(counts)]);
    const t0 = performance.now();
    Atomics.store(f, HR_GO, 1);
    Atomics.notify(f, HR_GO);
    await new Promise((r) => setTimeout(r, ms));
    Atomics.store(f, HR_STOP, 1);
    const t1 = performance.now();
    const total = (await Promise.all(counts)).reduce((a, b) => a + b, 0);
    return (total * 1000) / (t1 - t0);
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

/**
 * The bullmq backend in the shape the tuning sweep drives its backends with
 * (`npm run sweep -- --backend bullmq --redis URL [--spawn-workers N]`): tasks as
 * `{ count, at(i) }`, outcomes done/failed/cancelled, progress with rate and ETA, and an
 * abort that resolves (tasks not delivered count as cancelled) instead of rejecting.
 * The sweep's backend interface (tools/sweep/backend.ts) takes its task, outcome,
 * progress and request shapes from here: the layer below it.
 *
 * `spawnWorkers: N` starts N `framejobs worker` processes on this machine for the run
 * (convenient on one machine; on many, start workers there and give 0). The run id is
 * the caller's (derive it from the sweep's grid and seed), so a `--resume` finds what the
 * killed run's workers finished.
 */
import { BullmqBackend, type BullmqBackendOptions } from './bullmq-backend.js';
import { shownValue } from '../engine/errors.js';
import { BackendError } from './errors.js';
import { spawnWorker, type SpawnedWorker } from './spawn.js';

export interface SweepTask {
  readonly kind: string;
  readonly params: readonly number[];
}

export interface SweepOutcome {
  readonly status: 'done' | 'failed' | 'cancelled';
  /** The kind's result values; valid during the callback only. */
  readonly values: ArrayLike<number>;
  readonly reason?: string;
}

export interface SweepProgress {
  readonly completed: number;
  readonly total: number;
  readonly skipped: number;
  readonly ratePerS: number;
  readonly etaS: number;
}

export interface SweepBatchRequest {
  readonly tasks: { readonly count: number; at(i: number): SweepTask };
  readonly maxInFlight: number;
  /** Tasks already done by an earlier run: not run, not delivered. */
  skip?(i: number): boolean;
  onResult(i: number, outcome: SweepOutcome): void;
  onProgress?(p: SweepProgress): void;
  readonly signal?: AbortSignal;
}

export interface SweepBatchSummary {
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly aborted: boolean;
}

export interface BullmqSweepBackendOptions extends Omit<BullmqBackendOptions, 'kinds'> {
  /** Names the run (letters, digits, '_', '-'): the same for a run and its --resume. */
  readonly runId: string;
  /** Remote worker processes to start on this machine. Default 0. */
  readonly spawnWorkers?: number;
  /** Built kind modules for spawned workers (paths or file: URLs). */
  readonly kindModules?: readonly (string | URL)[];
  /** More options for spawned workers, for example ['--threads', '1']. */
  readonly workerArgs?: readonly string[];
}

export interface BullmqSweepBackend {
  readonly name: 'bullmq';
  /** Spawned worker processes (remote ones started elsewhere are not counted). */
  readonly workers: number;
  runBatch(req: SweepBatchRequest): Promise<SweepBatchSummary>;
  /** Duplicates and redeliveries of the last batch, for the sweep's JSON line. */
  stats(): { duplicates: number; redelivered: number };
  close(): Promise<void>;
}

export async function createBullmqSweepBackend(o: BullmqSweepBackendOptions): Promise<BullmqSweepBackend> {
  const n = o.spawnWorkers ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new BackendError('INVALID_OPTION', `spawnWorkers must be an integer in [0, 64], got ${shownValue(n)}`);
  if (n > 0 && (o.kindModules === undefined || o.kindModules.length === 0)) throw new BackendError('INVALID_OPTION', 'spawnWorkers needs kindModules');
  const backend = await BullmqBackend.connect(o);
  const spawned: SpawnedWorker[] = [];
  const close = async (): Promise<void> => {
    await backend.close();
    await Promise.all(spawned.map((w) => w.kill('SIGTERM')));
  };
  try {
    const kinds = (o.kindModules ?? []).map((k) => (k instanceof URL ? k.href : k));
    const args = [...(o.queue !== undefined ? ['--queue', o.queue] : []), ...(o.prefix !== undefined ? ['--prefix', o.prefix] : []), ...(o.workerArgs ?? [])];
    for (let i = 0; i < n; i++) spawned.push(spawnWorker({ redis: o.redis, kinds, args: [...args, '--name', `sweep-${process.pid}-${i}`] }));
    await Promise.all(spawned.map((w) => w.waitFor((e) => e.event === 'ready', 180_000)));
  } catch (err) {
    await close();
    throw err;
  }
  let last = { duplicates: 0, redelivered: 0 };
  return {
    name: 'bullmq',
    workers: n,
    stats: () => last,
    close,
    async runBatch(req: SweepBatchRequest): Promise<SweepBatchSummary> {
      const total = req.tasks.count;
      let skipped = 0;
      let delivered = 0;
      let done = 0;
      let failed = 0;
      const t0 = performance.now();
      const outcome = { status: 'done' as SweepOutcome['status'], values: [] as ArrayLike<number>, reason: undefined as string | undefined };
      try {
        const s = await backend.runBatch({
          tasks: { count: total, task: (i) => req.tasks.at(i) },
          maxInFlight: req.maxInFlight,
          runId: o.runId,
          signal: req.signal,
          skip: req.skip
            ? (i) => {
                const yes = req.skip!(i);
                if (yes) skipped++;
                return yes;
              }
            : undefined,
          onResult: (i, r) => {
            delivered++;
            if (r.status === 'done') done++;
            else failed++;
            outcome.status = r.status;
            outcome.values = r.values;
            outcome.reason = r.reason;
            req.onResult(i, outcome);
          },
          onProgress: req.onProgress
            ? (d) => {
                const s = (performance.now() - t0) / 1000;
                const rate = s > 0 ? delivered / s : 0;
                req.onProgress!({ completed: d, total, skipped, ratePerS: rate, etaS: rate > 0 ? (total - d) / rate : 0 });
              }
            : undefined,
        });
        last = { duplicates: s.duplicates, redelivered: s.redelivered };
        return { done, failed, cancelled: 0, aborted: false };
      } catch (err) {
        if (err instanceof BackendError && err.code === 'ABORTED') return { done, failed, cancelled: total - skipped - delivered, aborted: true };
        throw err;
      }
    },
  };
}

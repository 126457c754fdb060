/**
 * Where a sweep's tasks run, behind one small interface, so the coordinator (which alone
 * writes files) does not care whether tasks run on this machine's worker threads or on
 * remote workers of a distributed queue.
 *
 * A backend's contract:
 * - every task not skipped gets exactly one onResult, in task order (a backend whose
 *   workers finish out of order reorders before calling back);
 * - at most maxInFlight tasks are in flight at once;
 * - a task's values depend only on its kind and params (the kinds are deterministic);
 * - on abort, tasks not started end `cancelled` and runBatch resolves once.
 */
import { runBatch as runEngineBatch } from '../../engine/batch.js';
import { EngineCore } from '../../engine/core.js';
import { EngineError } from '../../engine/errors.js';
import type { SweepBatchRequest as RunBatchRequest, SweepBatchSummary as RunBatchSummary, SweepOutcome as TaskOutcome } from '../../remote/sweep-backend.js';

// The task, outcome, progress and request shapes are the remote layer's (the bullmq
// backend implements this interface too), under the names the sweep uses.
export type {
  SweepTask as TaskSpec,
  SweepOutcome as TaskOutcome,
  SweepProgress as BatchProgressInfo,
  SweepBatchRequest as RunBatchRequest,
  SweepBatchSummary as RunBatchSummary,
} from '../../remote/sweep-backend.js';

export interface SweepBackend {
  readonly name: string;
  /** Parallel workers behind it (0: tasks run on the coordinator's thread). */
  readonly workers: number;
  runBatch(req: RunBatchRequest): Promise<RunBatchSummary>;
  close(): Promise<void>;
}

export interface EngineBackendOptions {
  workers: number;
  /** Built kind modules the tasks' kinds live in. */
  kindModules: readonly (string | URL)[];
  /** A task may run this long before its worker counts as hung. Default 120 s. */
  taskTimeoutMs?: number;
  /** Handed to every kind's init (EngineOptions.config). */
  config?: Readonly<Record<string, unknown>>;
}

/** Tasks on this process's worker threads, through the engine's batch layer. */
export async function createEngineBackend(opts: EngineBackendOptions): Promise<SweepBackend> {
  const engine = await EngineCore.start({
    workers: opts.workers,
    kindModules: opts.kindModules,
    config: opts.config ?? {},
    // A task is a whole game run: far longer than a frame job.
    hangTimeoutMs: opts.taskTimeoutMs ?? 120_000,
    initTimeoutMs: 120_000,
    jobCapacity: 1024,
    arenaBytes: 1 << 16,
    // The coordinator does little but wait; its workers should not yield to it.
    workerNice: 0,
    // No frame work shares this engine: its background work (the batch's lane) may use every worker.
    backgroundWorkers: Math.max(1, opts.workers),
  });
  return {
    name: 'engine',
    workers: opts.workers,
    async runBatch(req: RunBatchRequest): Promise<RunBatchSummary> {
      const count = req.tasks.count;
      if (count === 0) return { done: 0, failed: 0, cancelled: 0, aborted: false };
      const kindName = req.tasks.at(0).kind;
      const kind = engine.kindId(kindName);
      const outcome = { status: 'done' as TaskOutcome['status'], values: new Float64Array(0) as ArrayLike<number>, reason: undefined as string | undefined };
      const report = await runEngineBatch(engine, {
        kind,
        count,
        maxInFlight: req.maxInFlight,
        // A task is a pure function of its params: a worker lost under it is worth two more tries.
        maxAttempts: 3,
        signal: req.signal,
        skip: req.skip ? (i) => req.skip!(i) : undefined,
        params: (i, _seed, out) => {
          // The sweep puts its seeds in the params itself (one per run, common to all points).
          const t = req.tasks.at(i);
          if (t.kind !== kindName) throw new EngineError('INVALID_OPTION', `engine backend: task ${i} is kind ${t.kind}, the batch is ${kindName}`);
          if (t.params.length !== out.length) throw new EngineError('INVALID_OPTION', `engine backend: task ${i} has ${t.params.length} params, kind ${kindName} takes ${out.length}`);
          for (let k = 0; k < out.length; k++) out[k] = t.params[k];
        },
        onResult: (i, r) => {
          outcome.status = r.status;
          outcome.values = r.values;
          outcome.reason = r.reason ?? undefined;
          req.onResult(i, outcome);
        },
        onProgress: req.onProgress
          ? (p) => req.onProgress!({ completed: p.completed, total: p.total, skipped: p.skipped, ratePerS: p.ratePerS, etaS: p.etaS })
          : undefined,
      });
      return { done: report.done, failed: report.failed, cancelled: report.cancelled, aborted: report.aborted };
    },
    async close(): Promise<void> {
      await engine.shutdown({ timeoutMs: 5000 });
    },
  };
}

/**
 * The `inline` and `local` batch backends, over an EngineCore's public API only:
 * `local` submits up to maxInFlight tasks to the engine's worker threads and polls;
 * `inline` submits and runs each task at once on the calling thread (`runInline`),
 * yielding to the event loop between slices so progress, timers and abort still work.
 *
 * The engine's poll() hands over every result of the engine; results of jobs this batch
 * did not submit go to `onOtherResult` (give the batch an engine of its own, or route
 * them there).
 */
import type { ResultView } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { isAbortSignal, shownValue } from '../engine/errors.js';
import { Rejection } from '../engine/outcome.js';
import { rejectedAtSubmit, resultFromView } from './engine-result.js';
import { BackendError } from './errors.js';
import { OrderedDelivery } from './ordered.js';
import type { BatchBackend, BatchRun, BatchSummary, Task, TaskResult } from './types.js';
import { checkTask, kindTable, taskAt } from './validate.js';

/** Options of the `inline` and `local` backends. */
export interface EngineBackendOptions {
  /** `inline` runs tasks on the calling thread; `local` on the engine's workers. */
  readonly mode: 'inline' | 'local';
  /** Default in-flight bound when a batch names none. Default: workers x 2 (at least 2). */
  readonly maxInFlight?: number;
  /** Receives poll() results that belong to no task of the running batch. */
  readonly onOtherResult?: (r: ResultView) => void;
}

/** How long the inline backend runs tasks before it yields to the event loop, ms. */
const INLINE_SLICE_MS = 8;

const nextTurn = (idle: boolean): Promise<void> =>
  new Promise((resolve) => (idle ? setTimeout(resolve, 1) : setImmediate(resolve)));

export function checkMaxInFlight(v: unknown, name = 'maxInFlight'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1_000_000) {
    throw new BackendError('INVALID_OPTION', `${name} must be an integer in [1, 1000000], got ${shownValue(v)}`);
  }
  return v;
}

const isFn = (v: unknown): v is (...args: never[]) => unknown => typeof v === 'function';

/**
 * Reads a caller's batch once into a plain one the backend runs from: every field is read
 * once and checked, a getter that throws is refused rather than thrown through, and the
 * callbacks and the task source are called on the caller's own objects. Throws
 * BackendError('INVALID_TASK') for a malformed batch, INVALID_OPTION for a bad maxInFlight.
 */
export function checkBatch(batch: BatchRun): BatchRun {
  if (typeof batch !== 'object' || batch === null) throw new BackendError('INVALID_TASK', 'batch must be an object');
  let fields: { tasks: unknown; maxInFlight: unknown; skip: unknown; onResult: unknown; onProgress: unknown; signal: unknown; runId: unknown };
  let source: { count: unknown; task: unknown } | undefined;
  try {
    const b = batch as { readonly [K in keyof BatchRun]: unknown };
    fields = { tasks: b.tasks, maxInFlight: b.maxInFlight, skip: b.skip, onResult: b.onResult, onProgress: b.onProgress, signal: b.signal, runId: b.runId };
    if (typeof fields.tasks === 'object' && fields.tasks !== null) {
      const t = fields.tasks as { count?: unknown; task?: unknown };
      source = { count: t.count, task: t.task };
    }
  } catch (err) {
    throw new BackendError('INVALID_TASK', 'batch could not be read', { cause: err });
  }
  if (source === undefined || !isFn(source.task)) throw new BackendError('INVALID_TASK', 'batch.tasks must be { count, task(i) }');
  const count = source.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new BackendError('INVALID_TASK', `batch.tasks.count must be a non-negative integer, got ${shownValue(count)}`);
  const { tasks, maxInFlight, skip, onResult, onProgress, signal, runId } = fields;
  if (!isFn(onResult)) throw new BackendError('INVALID_TASK', 'batch.onResult must be a function');
  if (skip !== undefined && !isFn(skip)) throw new BackendError('INVALID_TASK', 'batch.skip must be a function');
  if (onProgress !== undefined && !isFn(onProgress)) throw new BackendError('INVALID_TASK', 'batch.onProgress must be a function');
  if (signal !== undefined && !isAbortSignal(signal)) throw new BackendError('INVALID_TASK', 'batch.signal must be an AbortSignal');
  if (runId !== undefined && typeof runId !== 'string') throw new BackendError('INVALID_OPTION', `batch.runId must be a string, got ${shownValue(runId)}`);
  const task = source.task;
  return {
    tasks: { count, task: (i: number) => Reflect.apply(task, tasks, [i]) as Task },
    maxInFlight: maxInFlight === undefined ? undefined : checkMaxInFlight(maxInFlight, 'batch.maxInFlight'),
    skip: skip === undefined ? undefined : (i: number) => Reflect.apply(skip, batch, [i]) as boolean,
    onResult: (i: number, r: TaskResult) => void Reflect.apply(onResult, batch, [i, r]),
    onProgress: onProgress === undefined ? undefined : (done: number, total: number) => void Reflect.apply(onProgress, batch, [done, total]),
    signal: signal as AbortSignal | undefined,
    runId: runId as string | undefined,
  };
}

export const abortedError = (): BackendError => new BackendError('ABORTED', 'the batch was aborted');

export class EngineBackend implements BatchBackend {
  readonly name: 'inline' | 'local';
  private readonly engine: EngineCore;
  private readonly defaultInFlight: number;
  private readonly onOtherResult: ((r: ResultView) => void) | undefined;
  private running = false;
  private closed = false;

  constructor(engine: EngineCore, options: EngineBackendOptions) {
    if (options.mode !== 'inline' && options.mode !== 'local') throw new BackendError('INVALID_OPTION', `mode must be 'inline' or 'local', got ${shownValue(options.mode)}`);
    this.engine = engine;
    this.name = options.mode;
    this.defaultInFlight = options.maxInFlight === undefined ? Math.max(2, engine.workerCount * 2) : checkMaxInFlight(options.maxInFlight);
    this.onOtherResult = options.onOtherResult;
  }

  async runBatch(batch: BatchRun): Promise<BatchSummary> {
    if (this.closed) throw new BackendError('CLOSED', `the ${this.name} backend is closed`);
    if (this.running) throw new BackendError('BUSY', `the ${this.name} backend is already running a batch`);
    const read = checkBatch(batch);
    this.running = true;
    try {
      return await this.run(read);
    } finally {
      this.running = false;
    }
  }

  private async run(batch: BatchRun): Promise<BatchSummary> {
    const engine = this.engine;
    const kinds = kindTable(engine.kinds);
    const { count } = batch.tasks;
    const maxInFlight = batch.maxInFlight ?? this.defaultInFlight;
    const delivery = new OrderedDelivery(count, maxInFlight * 4, batch.onResult, batch.onProgress);
    const byJob = new Map<number, number>();
    const inline = this.name === 'inline';
    let next = 0;
    let inFlight = 0;
    const sink = (r: ResultView): void => {
      const i = byJob.get(r.jobId);
      if (i === undefined) {
        this.onOtherResult?.(r);
        return;
      }
      byJob.delete(r.jobId);
      inFlight--;
      delivery.put(i, resultFromView(r));
    };
    // An abort (even from inside onResult) ends delivery at once, not at the next turn.
    const stop = (): void => delivery.stop();
    batch.signal?.addEventListener('abort', stop, { once: true });
    try {
      batch.onProgress?.(0, count);
      while (!delivery.done) {
        if (batch.signal?.aborted) {
          this.cancelAll(byJob);
          throw abortedError();
        }
        const sliceEnd = performance.now() + INLINE_SLICE_MS;
        let delivered = 0;
        while (inFlight < maxInFlight && next < count && delivery.admits(next)) {
          const i = next;
          if (batch.skip?.(i) === true) {
            delivery.skip(i);
            next++;
            continue;
          }
          const task = taskAt(batch.tasks, i);
          const bad = checkTask(task, kinds);
          if (bad !== null) {
            delivery.put(i, bad);
            next++;
            continue;
          }
          const id = engine.submit(engine.kindId(task.kind), task.params, 0);
          if (id === Rejection.RingFull || id === Rejection.Overloaded || id === Rejection.ArenaFull) break; // busy: try again next turn
          next++;
          if (id < 0) {
            delivery.put(i, rejectedAtSubmit(id) as TaskResult);
            continue;
          }
          byJob.set(id, i);
          inFlight++;
          if (inline) {
            engine.runInline(id, sink);
            delivered++;
            if (performance.now() > sliceEnd) break;
          }
        }
        delivered += engine.poll(sink);
        delivery.flush();
        if (!delivery.done) await nextTurn(delivered === 0 && inFlight > 0);
      }
      return { completed: delivery.completed, failed: delivery.failed, skipped: delivery.skipped, duplicates: delivery.duplicates, redelivered: 0 };
    } catch (err) {
      // A batch that stops (a source or a callback that threw) leaves nothing of its own queued.
      this.cancelAll(byJob);
      throw err;
    } finally {
      batch.signal?.removeEventListener('abort', stop);
    }
  }

  /** Aborting: cancel what has not started; what runs finishes and is dropped. */
  private cancelAll(byJob: Map<number, number>): void {
    for (const id of byJob.keys()) this.engine.cancel(id);
    byJob.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * The coordinator of the `bullmq` backend. It puts a batch's tasks on a BullMQ queue,
 * at most maxInFlight at a time, and remote workers (`framejobs worker`) take them.
 *
 * Delivery is at-least-once, so the coordinator is where exactly-once is made:
 * - a task's job id is derived from its content and the run id, so a re-added or
 *   redelivered task is the same job, and identical tasks share one job;
 * - results arrive through the queue's event stream (QueueEvents), and a reconcile
 *   pass asks Redis directly about any task that has had no news for `reconcileMs`
 *   (an event missed while the connection was down, a job lost with Redis's memory);
 * - the first result for a task is applied; any later one is counted as a duplicate;
 * - results reach the caller in index order through a bounded reorder window;
 * - a finished job is removed from Redis as soon as the coordinator has its result.
 *
 * Redis unreachable at connect: BackendError('REDIS_UNREACHABLE') within
 * connectTimeoutMs. Unreachable mid-run for longer than unreachableTimeoutMs: the batch
 * rejects with the same code; what was queued stays in Redis, and a run with the same
 * runId picks it up.
 */
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { shownValue } from '../engine/errors.js';
import type { JobKind } from '../engine/kind.js';
import { abortedError, checkBatch, checkMaxInFlight } from './engine-backend.js';
import { BackendError } from './errors.js';
import { frameDeadlineRefusal, hasFrameDeadline } from './groups.js';
import { OrderedDelivery } from './ordered.js';
import { OutageWatch, connectWithin, createClient, parseRedisUrl, settleWithin, type RedisTarget } from './redis.js';
import { checkRunId, randomRunId, taskId } from './task-id.js';
import type { BatchBackend, BatchRun, BatchSummary, Task, TaskResult } from './types.js';
import { checkTask, checkTaskShape, kindTable, taskAt } from './validate.js';
import { decodeFailedReason, decodeReturnValue, taskData, type ArrivedResult } from './wire.js';

export const DEFAULT_QUEUE = 'framejobs';
export const DEFAULT_PREFIX = 'framejobs';

/** Where the queue is, what the coordinator checks, and its time limits. */
export interface BullmqBackendOptions {
  /** redis://[user:password@]host:port[/db]. The password is never printed. */
  readonly redis: string;
  /** Queue name (no ':'). Default 'framejobs'; workers must use the same. */
  readonly queue?: string;
  /** Redis key prefix. Default 'framejobs'; workers must use the same. */
  readonly prefix?: string;
  /**
   * The kinds the coordinator knows (an engine's `kinds`). With them, tasks are checked
   * before they are queued, results are checked against the kind's result count, and
   * frame-deadline kinds are refused. Without them, only the task's shape is checked.
   */
  readonly kinds?: readonly JobKind<any>[];
  /** Runs per task before it fails for good (a handler that throws is retried). Default 3. */
  readonly attempts?: number;
  /** Pause before a retry, ms. Default 0. */
  readonly backoffMs?: number;
  /** Default in-flight bound. Default 128. */
  readonly maxInFlight?: number;
  /** Longest wait for the first connection, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Longest outage mid-run before the batch fails REDIS_UNREACHABLE, ms. Default 10000. */
  readonly unreachableTimeoutMs?: number;
  /** A task with no news for this long is looked up in Redis directly, ms. Default 2000. */
  readonly reconcileMs?: number;
  /** Receives log lines (already redacted). */
  readonly log?: (line: string) => void;
}

interface ResolvedBullmqOptions {
  readonly target: RedisTarget;
  readonly queue: string;
  readonly prefix: string;
  readonly kinds: ReadonlyMap<string, JobKind<any>> | null;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxInFlight: number;
  readonly connectTimeoutMs: number;
  readonly unreachableTimeoutMs: number;
  readonly reconcileMs: number;
  readonly log: (line: string) => void;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;

function positiveMs(name: string, v: unknown, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new BackendError('INVALID_OPTION', `${name} must be a positive number of milliseconds, got ${shownValue(v)}`);
  return v;
}

export function resolveBullmqOptions(o: BullmqBackendOptions): ResolvedBullmqOptions {
  if (typeof o !== 'object' || o === null) throw new BackendError('INVALID_OPTION', 'options must be an object');
  const target = parseRedisUrl(o.redis);
  const queue = o.queue ?? DEFAULT_QUEUE;
  if (typeof queue !== 'string' || !NAME_RE.test(queue)) throw new BackendError('INVALID_OPTION', `queue must be 1-64 letters, digits, '_', '.' or '-', got ${JSON.stringify(queue)}`);
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !NAME_RE.test(prefix)) throw new BackendError('INVALID_OPTION', `prefix must be 1-64 letters, digits, '_', '.' or '-', got ${JSON.stringify(prefix)}`);
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new BackendError('INVALID_OPTION', `attempts must be an integer in [1, 100], got ${shownValue(attempts)}`);
  const backoffMs = o.backoffMs ?? 0;
  if (typeof backoffMs !== 'number' || !Number.isFinite(backoffMs) || backoffMs < 0) throw new BackendError('INVALID_OPTION', `backoffMs must be a non-negative number, got ${shownValue(backoffMs)}`);
  return {
    target,
    queue,
    prefix,
    kinds: o.kinds === undefined ? null : kindTable(o.kinds),
    attempts,
    backoffMs,
    maxInFlight: o.maxInFlight === undefined ? 128 : checkMaxInFlight(o.maxInFlight),
    connectTimeoutMs: positiveMs('connectTimeoutMs', o.connectTimeoutMs, 5000),
    unreachableTimeoutMs: positiveMs('unreachableTimeoutMs', o.unreachableTimeoutMs, 10_000),
    reconcileMs: positiveMs('reconcileMs', o.reconcileMs, 2000),
    log: o.log ?? (() => {}),
  };
}

/**
 * Removes finished jobs in one round trip: a job is deleted only while it sits in the
 * completed or failed set, so a job that was added again (waiting or running under the
 * same id) is never touched. BullMQ's own `remove` runs one script per job, which on a
 * busy queue doubles Redis's work per task; these jobs have no parents, children,
 * deduplication keys or locks left, so the job hash and its log list are all there is.
 */
const REMOVE_FINISHED_LUA = `
local removed = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) + redis.call('ZREM', KEYS[2], id) > 0 then
    local key = ARGV[1] .. id
    redis.call('DEL', key, key .. ':logs')
    removed = removed + 1
  end
end
return removed`;

type RemovingClient = Redis & { framejobsRemoveFinished?: (completed: string, failed: string, jobKeyPrefix: string, ...ids: string[]) => Promise<number> };

export function removeFinished(client: Redis, queue: Queue, ids: readonly string[]): Promise<number> {
  const c = client as RemovingClient;
  if (c.framejobsRemoveFinished === undefined) c.defineCommand('framejobsRemoveFinished', { numberOfKeys: 2, lua: REMOVE_FINISHED_LUA });
  return c.framejobsRemoveFinished!(queue.keys.completed, queue.keys.failed, queue.toKey(''), ...ids);
}

export class BullmqBackend implements BatchBackend {
  readonly name = 'bullmq' as const;
  /** The Redis URL with its password masked. */
  readonly shownUrl: string;
  private readonly opts: ResolvedBullmqOptions;
  private readonly client: Redis;
  private readonly queue: Queue;
  private running = false;
  private closed = false;

  private constructor(opts: ResolvedBullmqOptions, client: Redis, queue: Queue) {
    this.opts = opts;
    this.client = client;
    this.queue = queue;
    this.shownUrl = opts.target.shown;
  }

  /** Connects to Redis (or throws REDIS_UNREACHABLE / REDIS_ERROR within connectTimeoutMs). */
  static async connect(options: BullmqBackendOptions): Promise<BullmqBackend> {
    const opts = resolveBullmqOptions(options);
    const client = createClient(opts.target, { name: 'framejobs-coordinator', connectTimeoutMs: opts.connectTimeoutMs });
    await connectWithin(client, opts.target, opts.connectTimeoutMs);
    const queue = new Queue(opts.queue, {
      connection: client,
      prefix: opts.prefix,
      // Room for the events of a few thousand tasks even while the coordinator is busy;
      // an event trimmed away anyway is found by the reconcile pass.
      streams: { events: { maxLen: 50_000 } },
    });
    queue.on('error', (err: Error) => opts.log(`queue error: ${opts.target.redactor.error(err)}`));
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        queue.waitUntilReady(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BackendError('REDIS_UNREACHABLE', `Redis at ${opts.target.shown} did not get ready within ${opts.connectTimeoutMs} ms`)), opts.connectTimeoutMs);
        }),
      ]);
    } catch (err) {
      client.disconnect();
      await settleWithin(queue.close(), 500);
      if (err instanceof BackendError) throw err;
      throw new BackendError('REDIS_ERROR', `Redis at ${opts.target.shown}: ${opts.target.redactor.error(err)}`);
    } finally {
      clearTimeout(timer);
    }
    return new BullmqBackend(opts, client, queue);
  }

  async runBatch(batch: BatchRun): Promise<BatchSummary> {
    if (this.closed) throw new BackendError('CLOSED', 'the bullmq backend is closed');
    if (this.running) throw new BackendError('BUSY', 'the bullmq backend is already running a batch');
    const read = checkBatch(batch);
    const runId = read.runId === undefined ? randomRunId() : checkRunId(read.runId);
    this.running = true;
    const run = new BullmqRun(this.opts, this.client, this.queue, read, runId);
    try {
      return await run.start();
    } catch (err) {
      // A connection that stayed away is not worth keeping: the caller connects again to resume.
      if (err instanceof BackendError && err.code === 'REDIS_UNREACHABLE') await this.close();
      throw err;
    } finally {
      this.running = false;
    }
  }

  /** Jobs of this queue in each state (waiting, active, completed, failed, ...): for tests and tooling. */
  jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await settleWithin(this.queue.close(), 2000);
    if (this.client.status === 'ready') await settleWithin(this.client.quit(), 1000);
    this.client.disconnect();
  }
}

interface Pending {
  /** The task as read once from the source: added again from here if Redis loses it. */
  readonly task: Task;
  readonly kind: string;
  /** Indices waiting on this job (identical tasks share one). */
  readonly indices: number[];
  /** True once addBulk has answered for it. */
  added: boolean;
  /** Last news of it (added, or looked up), performance.now() ms. */
  since: number;
  /** Times the coordinator added it again after Redis had lost it. */
  readds: number;
}

/** One batch on the queue: the state between runBatch's call and its answer. */
class BullmqRun {
  private readonly delivery: OrderedDelivery;
  private readonly maxInFlight: number;
  private readonly pending = new Map<string, Pending>();
  /** Results of this run by job id: for identical tasks later in the batch and to recognise duplicates. */
  private readonly results = new Map<string, TaskResult>();
  /** Finished jobs a previous coordinator of this run left behind. */
  private readonly leftovers = new Map<string, ArrivedResult>();
  private toAdd: { name: string; data: unknown; opts: JobsOptions }[] = [];
  private toRemove: string[] = [];
  private next = 0;
  private redelivered = 0;
  private io = 0;
  private ioScheduled = false;
  private settled = false;
  private events: QueueEvents | null = null;
  private watch: OutageWatch | null = null;
  private reconcileTimer: ReturnType<typeof setInterval> | null = null;
  private reconciling = false;
  private resolve!: (s: BatchSummary) => void;
  private reject!: (e: unknown) => void;
  private readonly onAbort = (): void => this.fail(abortedError());

  constructor(
    private readonly opts: ResolvedBullmqOptions,
    private readonly client: Redis,
    private readonly queue: Queue,
    private readonly batch: BatchRun,
    private readonly runId: string,
  ) {
    this.maxInFlight = batch.maxInFlight ?? opts.maxInFlight;
    this.delivery = new OrderedDelivery(batch.tasks.count, this.maxInFlight * 4, batch.onResult, batch.onProgress);
  }

  async start(): Promise<BatchSummary> {
    const done = new Promise<BatchSummary>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (this.batch.signal?.aborted) throw abortedError();
    this.watch = new OutageWatch([this.client], this.opts.target, this.opts.unreachableTimeoutMs, (err) => this.fail(err));
    try {
      await this.openEvents();
      if (this.batch.runId !== undefined) await this.loadLeftovers();
    } catch (err) {
      this.fail(err);
      return done;
    }
    this.batch.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.reconcileTimer = setInterval(() => void this.reconcile(), Math.max(50, this.opts.reconcileMs / 2));
    this.batch.onProgress?.(0, this.batch.tasks.count);
    this.step();
    return done;
  }

  /** Events from the last one in the stream now: nothing this run adds can be missed between here and the first read. */
  private async openEvents(): Promise<void> {
    const key = this.queue.keys.events;
    const last = (await this.client.xrevrange(key, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const lastEventId = last.length > 0 ? last[0][0] : '0-0';
    const events = new QueueEvents(this.opts.queue, {
      connection: this.client,
      prefix: this.opts.prefix,
      lastEventId,
      blockingTimeout: 5000,
    });
    events.on('error', (err: Error) => this.opts.log(`events error: ${this.opts.target.redactor.error(err)}`));
    events.on('completed', (e: { jobId: string; returnvalue: unknown }) => this.onCompleted(e.jobId, e.returnvalue));
    events.on('failed', (e: { jobId: string; failedReason: string }) => this.onFailed(e.jobId, e.failedReason));
    this.events = events;
    await events.waitUntilReady();
  }

  /** A resumed run: results its predecessor's workers finished but nobody collected. */
  private async loadLeftovers(): Promise<void> {
    const prefix = `${this.runId}.`;
    const page = 500;
    for (const state of ['completed', 'failed'] as const) {
      for (let start = 0; ; start += page) {
        const ids = await this.client.zrange(this.queue.toKey(state), start, start + page - 1);
        for (const id of ids) {
          if (!id.startsWith(prefix)) continue;
          const job = await this.queue.getJob(id);
          if (job === undefined || job === null) continue;
          const arrived: ArrivedResult =
            state === 'completed'
              ? decodeReturnValue(job.returnvalue, undefined)
              : { result: decodeFailedReason(job.failedReason, this.opts.target.redactor), redelivered: false };
          this.leftovers.set(id, arrived);
        }
        if (ids.length < page) break;
      }
    }
  }

  /** Admits tasks while there is room, hands results over in order, finishes when all are delivered. */
  private step(): void {
    if (this.settled) return;
    try {
      // Delivering moves the reorder window: admit again until nothing more is admitted
      // or delivered. A late result for a low index can free the whole window at once,
      // and no other result may be on its way to call step() again.
      do this.admit();
      while (this.delivery.flush() > 0 && !this.settled);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.scheduleIo();
    if (this.delivery.done && this.pending.size === 0) void this.finish();
  }

  private admit(): void {
    const { tasks, skip } = this.batch;
    const kinds = this.opts.kinds;
    while (this.pending.size < this.maxInFlight && this.next < tasks.count && this.delivery.admits(this.next)) {
      const i = this.next++;
      if (skip?.(i) === true) {
        this.delivery.skip(i);
        continue;
      }
      const task = taskAt(tasks, i);
      const bad = kinds === null ? checkTaskShape(task) : checkTask(task, kinds);
      if (bad !== null) {
        this.delivery.put(i, bad);
        continue;
      }
      const decl = kinds?.get(task.kind);
      if (decl !== undefined && hasFrameDeadline(decl)) throw frameDeadlineRefusal(task.kind, 'bullmq');
      const id = taskId(this.runId, task);
      const known = this.results.get(id);
      if (known !== undefined) {
        this.delivery.put(i, known);
        continue;
      }
      const waiting = this.pending.get(id);
      if (waiting !== undefined) {
        waiting.indices.push(i);
        continue;
      }
      const left = this.leftovers.get(id);
      if (left !== undefined) {
        this.leftovers.delete(id);
        this.accept(id, { task, kind: task.kind, indices: [i], added: true, since: 0, readds: 0 }, left);
        continue;
      }
      this.pending.set(id, { task, kind: task.kind, indices: [i], added: false, since: performance.now(), readds: 0 });
      this.toAdd.push({ name: task.kind, data: taskData(task), opts: this.jobOptions(id) });
    }
  }

  private jobOptions(id: string): JobsOptions {
    return {
      jobId: id,
      attempts: this.opts.attempts,
      ...(this.opts.backoffMs > 0 ? { backoff: { type: 'fixed', delay: this.opts.backoffMs } } : {}),
      // The coordinator removes finished jobs itself, once it holds their results.
      removeOnComplete: false,
      removeOnFail: false,
    };
  }

  /** Sends queued adds and removes in one go per turn of the event loop. */
  private scheduleIo(): void {
    if (this.ioScheduled || this.settled || (this.toAdd.length === 0 && this.toRemove.length === 0)) return;
    this.ioScheduled = true;
    setImmediate(() => {
      this.ioScheduled = false;
      void this.flushIo();
    });
  }

  private async flushIo(): Promise<void> {
    if (this.settled) return;
    const adds = this.toAdd;
    const removes = this.toRemove;
    this.toAdd = [];
    this.toRemove = [];
    this.io++;
    try {
      const work: Promise<unknown>[] = [];
      if (adds.length > 0) {
        work.push(
          this.queue.addBulk(adds).then(() => {
            const now = performance.now();
            for (const a of adds) {
              const p = this.pending.get(a.opts.jobId as string);
              if (p !== undefined) {
                p.added = true;
                p.since = now;
              }
            }
          }),
        );
      }
      if (removes.length > 0) work.push(removeFinished(this.client, this.queue, removes));
      await Promise.all(work);
    } catch (err) {
      this.fail(new BackendError('REDIS_ERROR', `queue operation failed: ${this.opts.target.redactor.error(err)}`));
      return;
    } finally {
      this.io--;
    }
    this.scheduleIo();
    if (this.delivery.done && this.pending.size === 0) void this.finish();
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    this.arrive(jobId, () => decodeReturnValue(returnvalue, this.opts.kinds?.get(this.pending.get(jobId)?.kind ?? '')));
  }

  private onFailed(jobId: string, failedReason: string): void {
    this.arrive(jobId, () => ({ result: decodeFailedReason(failedReason, this.opts.target.redactor), redelivered: false }));
  }

  private arrive(jobId: string, decode: () => ArrivedResult): void {
    if (this.settled || typeof jobId !== 'string') return;
    const p = this.pending.get(jobId);
    if (p === undefined) {
      // Ours but already applied: a second delivery of a finished task.
      if (this.results.has(jobId)) {
        this.delivery.duplicates++;
        this.toRemove.push(jobId);
        this.scheduleIo();
      }
      return;
    }
    this.accept(jobId, p, decode());
    this.step();
  }

  private accept(id: string, p: Pending, arrived: ArrivedResult): void {
    this.pending.delete(id);
    this.results.set(id, arrived.result);
    if (arrived.redelivered || p.readds > 0) this.redelivered++;
    for (const i of p.indices) this.delivery.put(i, arrived.result);
    this.toRemove.push(id);
  }

  /**
   * Tasks without news for reconcileMs: ask Redis. Finished: apply (the event was
   * missed). Gone: add it again (Redis lost it). Otherwise it is waiting or running.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.settled || this.client.status !== 'ready') return;
    this.reconciling = true;
    try {
      const now = performance.now();
      const stale = [...this.pending.entries()].filter(([, p]) => p.added && now - p.since > this.opts.reconcileMs);
      for (const [id, p] of stale) {
        if (this.settled || this.pending.get(id) !== p) continue;
        const state = await this.queue.getJobState(id);
        if (this.pending.get(id) !== p) continue;
        if (state === 'completed' || state === 'failed') {
          const job = await this.queue.getJob(id);
          if (this.pending.get(id) !== p || job === undefined || job === null) continue;
          this.opts.log(`reconcile: ${state} job ${id} had no event`);
          if (state === 'completed') this.onCompleted(id, job.returnvalue);
          else this.onFailed(id, job.failedReason);
        } else if (state === 'unknown') {
          this.opts.log(`reconcile: job ${id} is gone from Redis; adding it again`);
          p.readds++;
          p.added = false;
          p.since = performance.now();
          this.toAdd.push({ name: p.kind, data: taskData(p.task), opts: this.jobOptions(id) });
          this.scheduleIo();
        } else {
          p.since = performance.now();
        }
      }
    } catch (err) {
      this.opts.log(`reconcile: ${this.opts.target.redactor.error(err)}`);
    } finally {
      this.reconciling = false;
    }
  }

  private async finish(): Promise<void> {
    if (this.settled || this.io > 0 || this.toRemove.length > 0 || this.ioScheduled) return;
    // Leftovers of a previous coordinator that this run never needed (their indices were skipped).
    if (this.leftovers.size > 0) {
      const ids = [...this.leftovers.keys()];
      this.leftovers.clear();
      this.toRemove.push(...ids);
      this.scheduleIo();
      return;
    }
    this.settle();
    const d = this.delivery;
    this.resolve({ completed: d.completed, failed: d.failed, skipped: d.skipped, duplicates: d.duplicates, redelivered: this.redelivered });
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settle();
    this.reject(err);
  }

  private settle(): void {
    this.settled = true;
    this.delivery.stop();
    this.watch?.stop();
    if (this.reconcileTimer !== null) clearInterval(this.reconcileTimer);
    this.batch.signal?.removeEventListener('abort', this.onAbort);
    const events = this.events;
    this.events = null;
    if (events !== null) void settleWithin(events.close(), 2000);
  }
}

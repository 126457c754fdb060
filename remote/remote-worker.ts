/**
 * A remote worker: a BullMQ Worker that takes tasks from the queue and runs them on its
 * own local EngineCore (kind modules loaded by URL, work on worker threads).
 *
 * Trust: a job's data is checked on arrival like a local submit (shape, a kind this
 * worker registered, the kind's parameter rules). A job that fails those checks fails
 * at once with its reason (no retries: it would fail the same way) and runs nothing; a
 * handler that throws fails its job with the handler's message, and BullMQ retries it
 * up to the job's attempts. Nothing a job carries can stop the worker.
 *
 * Registered kinds are the engine's built-ins (`noop`, `compute-heavy`) and the kinds
 * of the given modules; nothing else runs.
 */
import { availableParallelism } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { EngineCore } from '../engine/core.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE } from './bullmq-backend.js';
import { EngineBridge } from './engine-bridge.js';
import { BackendError } from './errors.js';
import { connectWithin, createClient, parseRedisUrl, settleWithin, type RedisTarget } from './redis.js';
import { checkTask, kindTable, snapshotTask } from './validate.js';
import { encodeFailure, type ReturnValue } from './wire.js';

/** Where the queue is, which kinds this worker runs, and on how many threads. */
export interface RemoteWorkerOptions {
  /** redis://[user:password@]host:port[/db]. The password is never printed. */
  readonly redis: string;
  /** Built kind modules (URLs or absolute paths of .js files); empty runs the built-in kinds only. */
  readonly kindModules: readonly (string | URL)[];
  /** Engine worker threads. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** Jobs taken from the queue at once. Default: threads x 4. */
  readonly concurrency?: number;
  readonly queue?: string;
  readonly prefix?: string;
  /** BullMQ job lock, ms; renewed every half of it while a task runs. Default 30000. */
  readonly lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker vanished, ms. Default 30000. */
  readonly stalledIntervalMs?: number;
  /** Times a job may be recovered from a lost worker before it fails `stalled`. Default 2. */
  readonly maxStalledCount?: number;
  /** Longest wait for the first connection, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** A task running longer than this on one engine thread is treated as hung, ms. Default 600000. */
  readonly hangTimeoutMs?: number;
  /** A kind's init may take this long on each thread (building levels, loading wasm), ms. Default 120000. */
  readonly initTimeoutMs?: number;
  /** JSON-safe configuration handed to every kind's init (EngineOptions.config). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Worker name shown in Redis (CLIENT LIST, job.processedBy). */
  readonly name?: string;
  /** Receives structured log events (already redacted). `active`/`completed`/`failed` only with logJobs. */
  readonly log?: (event: WorkerLogEvent) => void;
  readonly logJobs?: boolean;
}

/** The structured events a remote worker logs (already redacted); `framejobs worker` prints them as JSON lines. */
export type WorkerLogEvent =
  | { event: 'ready'; redis: string; queue: string; kinds: string[]; threads: number; concurrency: number }
  | { event: 'active'; job: string }
  | { event: 'completed'; job: string }
  | { event: 'failed'; job: string; reason: string }
  | { event: 'redis-down' | 'redis-up'; redis: string }
  | { event: 'error'; message: string };

function intOption(name: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BackendError('INVALID_OPTION', `${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

export class RemoteWorker {
  /** Tasks this worker finished (done or failed), for tests and tooling. */
  processed = 0;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly engine: EngineCore,
    private readonly client: Redis,
    private readonly worker: Worker,
    readonly target: RedisTarget,
  ) {}

  static async start(options: RemoteWorkerOptions): Promise<RemoteWorker> {
    if (typeof options !== 'object' || options === null) throw new BackendError('INVALID_OPTION', 'options must be an object');
    const target = parseRedisUrl(options.redis);
    if (!Array.isArray(options.kindModules)) throw new BackendError('INVALID_OPTION', 'kindModules must be an array of built kind modules (empty: built-in kinds only)');
    const threads = intOption('threads', options.threads, Math.max(1, availableParallelism()), 1, 64);
    const concurrency = intOption('concurrency', options.concurrency, threads * 4, 1, 10_000);
    const lockDuration = intOption('lockDurationMs', options.lockDurationMs, 30_000, 100, 3_600_000);
    const stalledInterval = intOption('stalledIntervalMs', options.stalledIntervalMs, 30_000, 50, 3_600_000);
    const maxStalledCount = intOption('maxStalledCount', options.maxStalledCount, 2, 0, 1000);
    const connectTimeoutMs = intOption('connectTimeoutMs', options.connectTimeoutMs, 5000, 1, 600_000);
    const hangTimeoutMs = intOption('hangTimeoutMs', options.hangTimeoutMs, 600_000, 100, 86_400_000);
    const initTimeoutMs = intOption('initTimeoutMs', options.initTimeoutMs, 120_000, 100, 3_600_000);
    const queueName = options.queue ?? DEFAULT_QUEUE;
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const log = options.log ?? (() => {});
    const logJobs = options.logJobs === true;

    let jobCapacity = 64;
    while (jobCapacity < concurrency * 2) jobCapacity *= 2;
    // workerNice 0: no game loop shares this process, so the engine's threads should not yield to anything.
    const engine = await EngineCore.start({
      workers: threads,
      kindModules: options.kindModules,
      config: options.config ?? {},
      hangTimeoutMs,
      initTimeoutMs,
      jobCapacity,
      workerNice: 0,
    });
    const kinds = kindTable(engine.kinds);
    const bridge = new EngineBridge(engine);

    const client = createClient(target, { name: options.name ?? 'framejobs-worker', connectTimeoutMs });
    try {
      await connectWithin(client, target, connectTimeoutMs);
    } catch (err) {
      await engine.shutdown({ timeoutMs: 500 });
      throw err;
    }

    const processor = async (job: Job): Promise<ReturnValue> => {
      const task = snapshotTask(job.data);
      const bad = checkTask(task, kinds);
      if (bad !== null) throw new UnrecoverableError(encodeFailure(bad.reason ?? 'malformed-task', bad.message ?? ''));
      const result = await bridge.run(engine.kindId(task.kind), task.params);
      if (result.status === 'failed') {
        const text = encodeFailure(result.reason ?? 'failed', result.message ?? '');
        // A rejection at submit fails the same way every time; a thrown handler or a lost thread may not.
        throw result.reason === 'bad-params' || result.reason === 'payload-too-large' ? new UnrecoverableError(text) : new Error(text);
      }
      return { values: result.values, starts: job.attemptsStarted, fails: job.attemptsMade };
    };

    const worker = new Worker(queueName, processor, {
      connection: client,
      prefix,
      concurrency,
      lockDuration,
      stalledInterval,
      maxStalledCount,
      name: options.name,
      autorun: false,
    });
    const self = new RemoteWorker(engine, client, worker, target);
    worker.on('error', (err: Error) => log({ event: 'error', message: target.redactor.error(err) }));
    worker.on('completed', () => self.processed++);
    worker.on('failed', (job: Job | undefined, err: Error) => {
      if (job !== undefined && job.finishedOn !== undefined) self.processed++;
      if (logJobs && job !== undefined) log({ event: 'failed', job: String(job.id), reason: target.redactor.error(err) });
    });
    if (logJobs) {
      worker.on('active', (job: Job) => log({ event: 'active', job: String(job.id) }));
      worker.on('completed', (job: Job) => log({ event: 'completed', job: String(job.id) }));
    }
    let down = false;
    client.on('close', () => {
      if (!down) log({ event: 'redis-down', redis: target.shown });
      down = true;
    });
    client.on('ready', () => {
      if (down) log({ event: 'redis-up', redis: target.shown });
      down = false;
    });
    void worker.run().catch((err: unknown) => log({ event: 'error', message: target.redactor.error(err) }));
    await worker.waitUntilReady();
    log({ event: 'ready', redis: target.shown, queue: queueName, kinds: engine.kinds.map((k) => k.name), threads, concurrency });
    return self;
  }

  /** Stops taking jobs, lets running ones finish (up to timeoutMs), stops the engine and the connection. */
  close(timeoutMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      // With Redis away, running jobs cannot be completed anyway: do not wait the full time.
      await settleWithin(this.worker.close(), this.client.status === 'ready' ? timeoutMs : Math.min(timeoutMs, 500));
      await this.engine.shutdown({ timeoutMs: 1000 });
      if (this.client.status === 'ready') await settleWithin(this.client.quit(), 1000);
      this.client.disconnect();
    })();
    return this.closing;
  }
}

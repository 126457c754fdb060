/**
 * The bullmq backend on a real redis-server (append-only, noeviction, a password) with
 * real remote worker processes (`framejobs worker`), and its faults: a worker killed with
 * SIGKILL mid-task, Redis restarted mid-batch, Redis unreachable at start and mid-run, a
 * handler that always throws, malformed task data injected by hand, a task naming a kind
 * no worker registered. Stalled intervals and locks are short so the suite stays quick.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineCore } from '../engine/core.js';
import { BullmqBackend, type BullmqBackendOptions } from '../remote/bullmq-backend.js';
import { EngineBackend } from '../remote/engine-backend.js';
import { BackendError } from '../remote/errors.js';
import { spawnWorker, type SpawnedWorker } from '../remote/spawn.js';
import { taskId } from '../remote/task-id.js';
import { createBullmqSweepBackend } from '../remote/sweep-backend.js';
import type { BatchRun, Task, TaskResult } from '../remote/types.js';
import { fixtureModule, startEngine } from './fixtures/engine.js';
import { RedisServer, freePort } from './fixtures/redis-server.js';

const PASSWORD = 'Tr0ub4dor:&3@x';
const kindsPath = fixtureModule('remote-kinds').pathname;
/** Short locks so a killed worker's task is recovered in about two seconds. */
const FAST_LOCKS = ['--lock-duration-ms', '1000', '--stalled-interval-ms', '300', '--threads', '1'];

const mixTask = (i: number): Task => ({ kind: 'remote.mix', params: [i, i * 0.25] });

interface Collected {
  results: TaskResult[];
  calls: number[];
  summary: Awaited<ReturnType<BullmqBackend['runBatch']>>;
}

async function runCollect(backend: { runBatch: BullmqBackend['runBatch'] }, count: number, task: (i: number) => Task, extra: Partial<BatchRun> = {}): Promise<Collected> {
  const results: TaskResult[] = [];
  const calls: number[] = [];
  const summary = await backend.runBatch({
    tasks: { count, task },
    onResult: (i, r) => {
      calls.push(i);
      results[i] = r;
    },
    ...extra,
  });
  return { results, calls, summary };
}

const indices = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function expectCode(p: Promise<unknown>, code: string): Promise<BackendError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BackendError);
    expect((e as BackendError).code).toBe(code);
    return e as BackendError;
  }
  throw new Error(`expected BackendError ${code}`);
}

describe('bullmq backend on a real redis-server', () => {
  let server: RedisServer;
  let engine: EngineCore;
  const workers: SpawnedWorker[] = [];
  const logs: string[] = [];
  let mainWorkers: SpawnedWorker[] = [];
  const backends: BullmqBackend[] = [];

  const connect = async (o: Partial<BullmqBackendOptions> = {}): Promise<BullmqBackend> => {
    const b = await BullmqBackend.connect({ redis: server.url, log: (l) => logs.push(l), reconcileMs: 1000, ...o });
    backends.push(b);
    return b;
  };
  /**
   * Only the workers of the kill and restart tests get FAST_LOCKS: with a 1 s lock, a
   * worker process starved for half a second on a loaded machine would have its job
   * redelivered, and the other tests count duplicates exactly.
   */
  const startWorker = (queue: string, extra: string[] = [], locks = FAST_LOCKS): SpawnedWorker => {
    const w = spawnWorker({ redis: server.url, kinds: [kindsPath], args: ['--queue', queue, '--concurrency', '4', '--log-jobs', ...locks, ...extra] });
    workers.push(w);
    return w;
  };
  const ready = (w: SpawnedWorker) => w.waitFor((e) => e.event === 'ready');
  const localResults = async (count: number, task: (i: number) => Task): Promise<TaskResult[]> =>
    (await runCollect(new EngineBackend(engine, { mode: 'local' }), count, task)).results;

  beforeAll(async () => {
    server = await RedisServer.start({ password: PASSWORD });
    engine = await startEngine({ workers: 2, kindModules: [fixtureModule('remote-kinds')] });
    mainWorkers = [startWorker('main', [], ['--threads', '1']), startWorker('main', [], ['--threads', '1'])];
    await Promise.all(mainWorkers.map(ready));
  });

  afterAll(async () => {
    for (const b of backends) await b.close();
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await engine?.shutdown({ timeoutMs: 1000 });
    await server?.dispose();
    // The password never reached a log line, a worker's output or an error message.
    for (const text of [...logs, ...workers.map((w) => w.output())]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encodeURIComponent(PASSWORD));
    }
  });

  it('runs a batch on two worker processes: local results, index order, each once, finished jobs removed', async () => {
    expect(JSON.stringify(mainWorkers[0].events[0])).toContain('redis://:***@127.0.0.1');
    const backend = await connect({ queue: 'main', kinds: engine.kinds });
    const n = 300;
    const task = (i: number): Task => (i % 4 === 0 ? { kind: 'remote.slow', params: [1, i] } : mixTask(i));
    const progress: number[] = [];
    const got = await runCollect(backend, n, task, { maxInFlight: 16, runId: 'first', onProgress: (d) => progress.push(d) });
    expect(got.calls).toEqual(indices(n));
    expect(got.results).toEqual(await localResults(n, task));
    expect(got.summary).toMatchObject({ completed: n, failed: 0, duplicates: 0 });
    expect(progress.at(-1)).toBe(n);
    const counts = await backend.jobCounts();
    expect(counts.completed + counts.failed + counts.waiting + counts.active).toBe(0);
    const raw = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      expect(await raw.keys('framejobs:main:first.*')).toEqual([]); // no job hash, no log list left
    } finally {
      raw.disconnect();
    }
  });

  it('counts a second completion of an applied task as a duplicate and never applies it', async () => {
    // No reconcile pass: every completion then comes through the event stream, in stream
    // order, so the forged one is read before the last real one ends the batch.
    const backend = await connect({ queue: 'main', kinds: engine.kinds, reconcileMs: 60_000 });
    const raw = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      const n = 12;
      const task = (i: number): Task => (i === 0 ? mixTask(0) : { kind: 'remote.slow', params: [150, i] }); // about a second: the forged event lands well before the end
      const forged = { values: [-1, -1], starts: 1, fails: 0 };
      let injected: Promise<unknown> | null = null;
      const results: TaskResult[] = [];
      const summary = await backend.runBatch({
        tasks: { count: n, task },
        maxInFlight: 4,
        runId: 'dup',
        onResult: (i, r) => {
          results[i] = r;
          // A second 'completed' for task 0, as a redelivered job's would arrive, while the batch still runs.
          if (i === 0) injected = raw.xadd('framejobs:main:events', '*', 'event', 'completed', 'jobId', taskId('dup', task(0)), 'returnvalue', JSON.stringify(forged), 'prev', 'active');
        },
      });
      await injected;
      expect(summary.duplicates).toBe(1);
      expect(results[0]).toEqual((await localResults(1, mixTask))[0]);
      expect(results.slice(1)).toEqual(indices(n).slice(1).map((i) => ({ status: 'done', values: [i * 2] })));
    } finally {
      raw.disconnect();
    }
  });

  it('fails a task naming a kind no worker registered, with a reason, and runs nothing', async () => {
    const backend = await connect({ queue: 'main' }); // no kinds: the worker is the one that checks
    const task = (i: number): Task => (i === 1 ? { kind: 'not.registered', params: [1] } : i === 2 ? { kind: 'remote.mix', params: [1.5, 0] } : mixTask(i));
    const got = await runCollect(backend, 4, task);
    expect(got.results[1]).toEqual({ status: 'failed', values: [], reason: 'unknown-kind', message: 'no kind named not.registered is registered' });
    expect(got.results[2].reason).toBe('bad-params');
    expect(got.results[0]).toEqual((await localResults(1, mixTask))[0]);
    expect(got.summary).toMatchObject({ completed: 2, failed: 2 });
  });

  it('fails a handler that always throws with its reason after the configured attempts', async () => {
    const backend = await connect({ queue: 'main', attempts: 2 });
    const got = await runCollect(backend, 3, (i) => (i === 1 ? { kind: 'remote.throws', params: [7] } : mixTask(i)), { runId: 'throws' });
    expect(got.results[1]).toEqual({ status: 'failed', values: [], reason: 'threw', message: 'RangeError: always fails 7' });
    expect(got.summary).toMatchObject({ completed: 2, failed: 1 });
    // Each attempt is a 'failed' line from whichever worker ran it (the last may still be in a pipe).
    const attempts = (): number => workers.flatMap((w) => w.events).filter((e) => e.event === 'failed' && typeof e.job === 'string' && e.job.startsWith('throws.')).length;
    for (let k = 0; k < 100 && attempts() < 2; k++) await new Promise((r) => setTimeout(r, 20));
    expect(attempts()).toBe(2);
  });

  it('fails malformed task data injected by hand with a reason; the workers survive and keep working', async () => {
    const raw = new Redis(server.url, { maxRetriesPerRequest: null });
    const queue = new Queue('main', { connection: raw, prefix: 'framejobs' });
    try {
      const bad: unknown[] = [{ kind: 5, params: [] }, 'just a string', { kind: 'remote.mix', params: 'x' }, { kind: 'remote.mix', params: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] }, null];
      const jobs = await Promise.all(bad.map((data, i) => queue.add('injected', data, { jobId: `injected-${i}` })));
      for (const job of jobs) {
        for (let k = 0; k < 200 && (await job.getState()) !== 'failed'; k++) await new Promise((r) => setTimeout(r, 25));
        const fresh = await queue.getJob(job.id!);
        expect(await fresh!.getState()).toBe('failed');
        expect(fresh!.failedReason).toMatch(/^framejobs:\{"reason":"malformed-task"/);
        expect(fresh!.attemptsMade).toBe(1); // not retried: it would fail the same way
        await fresh!.remove();
      }
    } finally {
      await queue.close();
      raw.disconnect();
    }
    for (const w of workers) expect(w.proc.exitCode).toBeNull();
    const backend = await connect({ queue: 'main' });
    expect((await runCollect(backend, 20, mixTask)).summary.completed).toBe(20);
  });

  it('recovers the task of a worker killed with SIGKILL mid-task: nothing lost, nothing applied twice', async () => {
    // The victim's task never ends by itself (holdSlow), so the kill always lands mid-task
    // however late the test reads the victim's output.
    const victim = startWorker('kill', ['--concurrency', '1', '--config', '{"holdSlow":true}']);
    const survivor = startWorker('kill', ['--concurrency', '1']);
    await Promise.all([ready(victim), ready(survivor)]);
    const backend = await connect({ queue: 'kill', kinds: engine.kinds });
    const n = 6;
    const task = (i: number): Task => ({ kind: 'remote.slow', params: [300, i] });
    const run = runCollect(backend, n, task, { maxInFlight: 4, runId: 'kill' });
    const started = await victim.waitFor((e) => e.event === 'active');
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const got = await run;
    expect(got.calls).toEqual(indices(n)); // each index exactly once, in order
    expect(got.results).toEqual(indices(n).map((i) => ({ status: 'done', values: [i * 2] })));
    expect(got.summary.redelivered).toBeGreaterThanOrEqual(1);
    // The survivor ran the victim's task. Its 'completed' line can still be in the pipe
    // when the result has come back through Redis: wait for the line, not for the time.
    expect((await survivor.waitFor((e) => e.event === 'completed' && e.job === started.job)).job).toBe(started.job);
    const counts = await backend.jobCounts();
    expect(counts.completed + counts.failed + counts.waiting + counts.active).toBe(0);
  });

  it('admits again when a late result moves the reorder window, with no other result on its way', async () => {
    // maxInFlight 2 gives a window of 8. Index 0 goes to Redis; 1-7 fail validation on the
    // spot and fill the window; 8 waits for the window. When 0 comes back it is the only
    // result in flight: delivering 0-7 must by itself admit 8 onwards.
    const backend = await connect({ queue: 'main', kinds: engine.kinds });
    const n = 20;
    const task = (i: number): Task => (i >= 1 && i <= 7 ? { kind: 'not.registered', params: [] } : mixTask(i));
    const got = await runCollect(backend, n, task, { maxInFlight: 2 });
    expect(got.calls).toEqual(indices(n));
    expect(got.results.map((r) => r.reason ?? r.status)).toEqual(indices(n).map((i) => (i >= 1 && i <= 7 ? 'unknown-kind' : 'done')));
    expect(got.summary).toMatchObject({ completed: n - 7, failed: 7, duplicates: 0 });
  });

  it('completes a batch across a Redis restart (append-only file on) with the same results', async () => {
    const w = startWorker('restart', ['--concurrency', '2']);
    await ready(w);
    const backend = await connect({ queue: 'restart', kinds: engine.kinds, unreachableTimeoutMs: 15_000 });
    const n = 60;
    const task = (i: number): Task => ({ kind: 'remote.slow', params: [20, i] });
    const results: TaskResult[] = [];
    const calls: number[] = [];
    let restarted: Promise<void> | null = null;
    const summary = await backend.runBatch({
      tasks: { count: n, task },
      maxInFlight: 8,
      runId: 'restart',
      onResult: (i, r) => {
        calls.push(i);
        results[i] = r;
        if (calls.length === 15) restarted = server.restart();
      },
    });
    expect(restarted).not.toBeNull();
    await restarted;
    expect(calls).toEqual(indices(n));
    expect(results).toEqual(indices(n).map((i) => ({ status: 'done', values: [i * 2] })));
    expect(summary).toMatchObject({ completed: n, failed: 0 });
    await w.waitFor((e) => e.event === 'redis-up');
  });

  it('resumes an aborted run with the same runId: collects what its workers finished, skips what was applied, leaves nothing behind', async () => {
    const n = 40;
    const task = (i: number): Task => ({ kind: 'remote.slow', params: [5, i] });
    const first = await connect({ queue: 'main', kinds: engine.kinds });
    const applied = new Map<number, TaskResult>();
    const ac = new AbortController();
    await expectCode(
      first.runBatch({
        tasks: { count: n, task },
        maxInFlight: 8,
        runId: 'resume',
        signal: ac.signal,
        onResult: (i, r) => {
          applied.set(i, r);
          if (applied.size === 10) ac.abort();
        },
      }),
      'ABORTED',
    );
    await new Promise((r) => setTimeout(r, 300)); // the jobs in flight finish and stay in Redis
    const second = await connect({ queue: 'main', kinds: engine.kinds });
    const got = await runCollect(second, n, task, { runId: 'resume', skip: (i) => applied.has(i) });
    expect(got.calls).toEqual(indices(n).filter((i) => !applied.has(i)));
    for (const [i, r] of applied) got.results[i] = r;
    expect(got.results).toEqual(indices(n).map((i) => ({ status: 'done', values: [i * 2] })));
    expect(got.summary).toMatchObject({ completed: n - 10, skipped: 10 });
    const counts = await second.jobCounts();
    expect(counts.completed + counts.failed + counts.waiting + counts.active).toBe(0);
  });

  it('serves the sweep: spawned worker processes, outcomes as the local backend gives them, abort resolves', async () => {
    const sweepBackend = await createBullmqSweepBackend({
      redis: server.url,
      queue: 'sweep',
      runId: 'sweep-test',
      spawnWorkers: 2,
      kindModules: [kindsPath],
      workerArgs: ['--threads', '1', '--concurrency', '2'],
      log: (l) => logs.push(l),
    });
    try {
      expect(sweepBackend.workers).toBe(2);
      const n = 40;
      const lines: string[] = [];
      const progress: number[] = [];
      const summary = await sweepBackend.runBatch({
        tasks: { count: n, at: mixTask },
        maxInFlight: 8,
        skip: (i) => i < 5,
        onResult: (i, r) => lines.push(`${i}:${r.status}:${Array.from(r.values).join(',')}`),
        onProgress: (p) => progress.push(p.completed),
      });
      const local = await localResults(n, mixTask);
      expect(lines).toEqual(indices(n).slice(5).map((i) => `${i}:done:${local[i].values.join(',')}`));
      expect(summary).toEqual({ done: n - 5, failed: 0, cancelled: 0, aborted: false });
      expect(progress.at(-1)).toBe(n);
      expect(sweepBackend.stats()).toEqual({ duplicates: 0, redelivered: 0 });
      const ac = new AbortController();
      ac.abort();
      expect((await sweepBackend.runBatch({ tasks: { count: 3, at: mixTask }, maxInFlight: 2, onResult: () => {}, signal: ac.signal })).aborted).toBe(true);
    } finally {
      await sweepBackend.close();
    }
  });

  it('gives REDIS_UNREACHABLE within seconds when nothing listens, and when Redis goes away mid-run', async () => {
    const port = await freePort();
    const e = await expectCode(BullmqBackend.connect({ redis: `redis://:${PASSWORD}@127.0.0.1:${port}`, connectTimeoutMs: 1000 }), 'REDIS_UNREACHABLE');
    expect(e.message).not.toContain(PASSWORD);
    expect(e.message).toContain('redis://:***@127.0.0.1');
    const wrong = await expectCode(BullmqBackend.connect({ redis: `redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}`, connectTimeoutMs: 2000 }), 'REDIS_ERROR');
    expect(wrong.message).not.toContain(PASSWORD);

    const doomed = await RedisServer.start();
    try {
      const backend = await BullmqBackend.connect({ redis: doomed.url, queue: 'nobody', unreachableTimeoutMs: 1000 });
      const run = runCollect(backend, 10, mixTask); // no worker on this queue: it waits
      await new Promise((r) => setTimeout(r, 200));
      await doomed.stop('SIGKILL');
      await expectCode(run, 'REDIS_UNREACHABLE');
      await backend.close();
    } finally {
      await doomed.dispose();
    }
  });
});

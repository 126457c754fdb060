/**
 * The batch backends' pieces that need no Redis: ordered delivery, task ids, redaction,
 * the wire format's checks, the merge rule of groups, and the inline and local backends
 * on a real engine with two worker threads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineCore } from '../engine/core.js';
import { EngineBackend } from '../remote/engine-backend.js';
import { BackendError } from '../remote/errors.js';
import { BUILT_IN_GROUP_CONFIG, JobGroups, mergeGroupConfig } from '../remote/groups.js';
import { OrderedDelivery } from '../remote/ordered.js';
import { Redactor, redactUrl } from '../remote/redact.js';
import { parseRedisUrl } from '../remote/redis.js';
import { checkRunId, taskId } from '../remote/task-id.js';
import type { BatchBackend, BatchRun, BatchSummary, Task, TaskResult } from '../remote/types.js';
import { checkTaskShape, snapshotTask } from '../remote/validate.js';
import { decodeFailedReason, decodeReturnValue, encodeFailure } from '../remote/wire.js';
import { fixtureModule, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

const remoteKinds = fixtureModule('remote-kinds');
const mixTask = (i: number): Task => ({ kind: 'remote.mix', params: [i, i * 0.25] });

async function collect(backend: BatchBackend, count: number, task: (i: number) => Task, extra: Partial<BatchRun> = {}) {
  const order: number[] = [];
  const results: TaskResult[] = [];
  const summary: BatchSummary = await backend.runBatch({
    tasks: { count, task },
    onResult: (i, r) => {
      order.push(i);
      results[i] = r;
    },
    ...extra,
  });
  return { order, results, summary };
}

const expectCode = async (p: Promise<unknown> | (() => unknown), code: string): Promise<void> => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(BackendError);
    expect((e as BackendError).code).toBe(code);
    return;
  }
  throw new Error(`expected BackendError ${code}`);
};

describe('OrderedDelivery', () => {
  it('delivers in index order whatever the arrival order, each index once, within its window', () => {
    const seed = seedFromEnv();
    const rand = rng(seed);
    const n = 500;
    const window = 16;
    const delivered: number[] = [];
    const d = new OrderedDelivery(n, window, (i) => delivered.push(i));
    let next = 0;
    const open: number[] = [];
    while (!d.done) {
      while (next < n && d.admits(next) && open.length < 8) open.push(next++);
      const pick = Math.floor(rand() * open.length);
      const [i] = open.splice(pick, 1);
      expect(d.put(i, { status: 'done', values: [i] }), `seed ${seed}`).toBe(true);
      if (rand() < 0.1) expect(d.put(i, { status: 'done', values: [-1] })).toBe(false); // a duplicate
      d.flush();
      expect(d.held).toBeLessThanOrEqual(window);
    }
    expect(delivered, `seed ${seed}`).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(d.completed).toBe(n);
  });

  it('passes over skipped indices without delivering them, and counts late results as duplicates', () => {
    const got: number[] = [];
    const progress: number[] = [];
    const d = new OrderedDelivery(5, 8, (i) => got.push(i), (done) => progress.push(done));
    d.skip(0);
    d.put(2, { status: 'failed', values: [], reason: 'threw' });
    d.skip(1);
    d.put(3, { status: 'done', values: [] });
    d.flush();
    d.skip(4);
    d.flush();
    expect(got).toEqual([2, 3]);
    expect(progress).toEqual([3, 4, 5]);
    expect([d.completed, d.failed, d.skipped]).toEqual([1, 1, 3]);
    expect(d.put(2, { status: 'done', values: [] })).toBe(false);
    expect(d.duplicates).toBe(1);
  });
});

describe('task ids, redaction, wire checks', () => {
  it('derives the same id from the same content and run, and a different one otherwise', () => {
    const a = taskId('run-1', { kind: 'k', params: [1, 0.1 + 0.2] });
    expect(taskId('run-1', { kind: 'k', params: [1, 0.1 + 0.2] })).toBe(a);
    expect(taskId('run-1', { kind: 'k', params: [1, 0.3] })).not.toBe(a);
    expect(taskId('run-2', { kind: 'k', params: [1, 0.1 + 0.2] })).not.toBe(a);
    expect(taskId('run-1', { kind: 'j', params: [1, 0.1 + 0.2] })).not.toBe(a);
    expect(a).toMatch(/^run-1\.[0-9a-f]{32}$/);
    expect(() => checkRunId('bad:id')).toThrow(BackendError);
  });

  it('never shows a password: URLs, driver messages, option errors', async () => {
    const url = 'redis://user:p%40ss:w0rd@127.0.0.1:6390/2';
    expect(redactUrl(url)).toBe('redis://user:***@127.0.0.1:6390/2');
    const r = Redactor.forUrl(url);
    expect(r.text('WRONGPASS p@ss:w0rd and p%40ss:w0rd')).toBe('WRONGPASS *** and ***');
    await expectCode(() => parseRedisUrl('http://:hunter2@host'), 'INVALID_OPTION');
    try {
      parseRedisUrl('http://:hunter2@host');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('checks task data, results and failure texts on arrival', () => {
    expect(checkTaskShape({ kind: 'remote.mix', params: [1, 2] })).toBeNull();
    for (const bad of [null, 'x', [], { kind: 5, params: [] }, { kind: 'k', params: 'x' }, { kind: 'k', params: [null] }, { kind: 'k', params: new Array(12).fill(0) }, { kind: '../x', params: [] }]) {
      expect(checkTaskShape(bad)?.reason).toBe('malformed-task');
    }
    expect(decodeReturnValue({ values: [1, 2], starts: 1, fails: 0 }, undefined)).toEqual({ result: { status: 'done', values: [1, 2] }, redelivered: false });
    expect(decodeReturnValue({ values: [1], starts: 2, fails: 0 }, undefined).redelivered).toBe(true);
    expect(decodeReturnValue({ values: [1], starts: 2, fails: 1 }, undefined).redelivered).toBe(false);
    expect(decodeReturnValue({ values: ['x'] }, undefined).result.reason).toBe('bad-result');
    expect(decodeReturnValue('nope', undefined).result.reason).toBe('bad-result');
    const red = new Redactor(['pw']);
    expect(decodeFailedReason(encodeFailure('threw', 'RangeError: pw'), red)).toEqual({ status: 'failed', values: [], reason: 'threw', message: 'RangeError: ***' });
    expect(decodeFailedReason('job stalled more than allowable limit', red).reason).toBe('stalled');
    expect(decodeFailedReason('framejobs:{not json', red).reason).toBe('queue-failed');
  });
});

describe('tasks and batches are read once', () => {
  it('snapshotTask reads kind, params, length and each value once into a frozen task; an unreadable one fails malformed-task', () => {
    const reads: string[] = [];
    const params = new Proxy([3, 0.5], {
      get(target, key, receiver) {
        reads.push(String(key));
        return Reflect.get(target, key, receiver);
      },
    });
    let kindReads = 0;
    const data = {
      get kind() {
        kindReads++;
        return kindReads === 1 ? 'remote.mix' : 'no.such';
      },
      params,
    };
    const t = snapshotTask(data);
    expect(t).toEqual({ kind: 'remote.mix', params: [3, 0.5] });
    expect(Object.isFrozen(t) && Object.isFrozen(t.params)).toBe(true);
    expect(snapshotTask(t)).toBe(t);
    expect(checkTaskShape(t)).toBeNull();
    expect(kindReads).toBe(1);
    expect(reads.filter((k) => k !== 'constructor')).toEqual(['length', '0', '1']);

    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const throwing = { kind: 'remote.mix', get params(): number[] { throw new Error('trap'); } };
    const cases: [unknown, string][] = [
      [revoked.proxy, 'task data could not be read'],
      [throwing, 'task data could not be read'],
      [{ kind: 'remote.mix', params: new Proxy([1], { get: () => { throw new Error('trap'); } }) }, 'task params could not be read'],
      [{ kind: 'remote.mix', params: [1n] }, 'task params must be finite numbers'],
      [{ kind: Symbol('k'), params: [] }, 'task kind must be a kind name'],
    ];
    for (const [bad, message] of cases) {
      const s = snapshotTask(bad);
      expect(checkTaskShape(s)).toEqual({ status: 'failed', values: [], reason: 'malformed-task', message });
      expect(snapshotTask(s)).toBe(s);
    }
  });
});

describe('groups: merge rule', () => {
  it('group beats per-kind default beats engine default beats built-in, field by field', () => {
    expect(mergeGroupConfig()).toEqual(BUILT_IN_GROUP_CONFIG);
    expect(BUILT_IN_GROUP_CONFIG.backend).toBe('local');
    expect(mergeGroupConfig({ backend: 'inline', maxInFlight: 4 })).toEqual({ backend: 'inline', maxInFlight: 4 });
    expect(mergeGroupConfig({ backend: 'inline', maxInFlight: 4 }, { backend: 'bullmq' })).toEqual({ backend: 'bullmq', maxInFlight: 4 });
    expect(mergeGroupConfig({ backend: 'inline' }, { maxInFlight: 8 }, { backend: 'local' })).toEqual({ backend: 'local', maxInFlight: 8 });
    expect(mergeGroupConfig({ backend: 'bullmq' }, undefined, {})).toEqual({ backend: 'bullmq', maxInFlight: undefined });
  });
});

describe('inline and local backends, groups on a real engine (2 workers)', () => {
  let engine: EngineCore;
  beforeAll(async () => {
    engine = await startEngine({ workers: 2, kindModules: [remoteKinds] });
  });
  afterAll(async () => {
    await engine.shutdown({ timeoutMs: 1000 });
  });

  it('inline and local give the same results, in index order, every index once', async () => {
    const n = 300;
    const task = (i: number): Task => (i % 50 === 7 ? { kind: 'remote.throws', params: [i] } : i % 3 === 0 ? { kind: 'remote.slow', params: [(i * 7) % 3, i] } : mixTask(i));
    const local = await collect(new EngineBackend(engine, { mode: 'local' }), n, task, { maxInFlight: 8 });
    const inline = await collect(new EngineBackend(engine, { mode: 'inline' }), n, task);
    expect(local.order).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(inline.order).toEqual(local.order);
    expect(inline.results).toEqual(local.results);
    expect(local.summary).toEqual({ completed: n - 6, failed: 6, skipped: 0, duplicates: 0, redelivered: 0 });
    expect(local.results[7]).toEqual({ status: 'failed', values: [], reason: 'threw', message: 'RangeError: always fails 7' });
  });

  it('skips what resume says is done, and fails bad tasks with their reasons', async () => {
    const task = (i: number): Task => (i === 1 ? { kind: 'no.such', params: [] } : i === 2 ? { kind: 'remote.mix', params: [1] } : i === 3 ? { kind: 'remote.mix', params: [0.5, 1] } : mixTask(i));
    const { order, results, summary } = await collect(new EngineBackend(engine, { mode: 'local' }), 8, task, { skip: (i) => i >= 6 });
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results[1].reason).toBe('unknown-kind');
    expect(results[2].reason).toBe('bad-params');
    expect(results[3].reason).toBe('bad-params');
    expect(summary.skipped).toBe(2);
  });

  it('rejects with ABORTED when the signal fires, and refuses a second batch at once with BUSY', async () => {
    const backend = new EngineBackend(engine, { mode: 'local' });
    const ac = new AbortController();
    const first = collect(backend, 10_000, (i) => ({ kind: 'remote.slow', params: [1, i] }), { signal: ac.signal, maxInFlight: 2 });
    await expectCode(collect(backend, 1, mixTask), 'BUSY');
    setTimeout(() => ac.abort(), 20);
    await expectCode(first, 'ABORTED');
    await expectCode(() => new EngineBackend(engine, { mode: 'local', maxInFlight: 0 }), 'INVALID_OPTION');
    await expectCode(collect(backend, 1, mixTask, { maxInFlight: -1 }), 'INVALID_OPTION');
    // A value whose string conversion throws: the refusal names its type, not the Proxy's error.
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); } });
    await expectCode(() => new EngineBackend(engine, { mode: 'local', maxInFlight: trap as never }), 'INVALID_OPTION');
    await expectCode(() => new EngineBackend(engine, { mode: trap as never }), 'INVALID_OPTION');
  });

  it('runs the task as first read: a kind or params that change between reads do not change what runs', async () => {
    const plain = await collect(new EngineBackend(engine, { mode: 'local' }), 4, mixTask);
    for (const mode of ['local', 'inline'] as const) {
      const shifty = (i: number): Task => {
        let k = 0;
        let p = 0;
        return {
          get kind() {
            return k++ === 0 ? 'remote.mix' : 'no.such';
          },
          get params() {
            return p++ === 0 ? [i, i * 0.25] : [Number.NaN];
          },
        };
      };
      const got = await collect(new EngineBackend(engine, { mode }), 4, shifty);
      expect(got.results, mode).toEqual(plain.results);
    }
  });

  it('refuses a task source that throws with INVALID_TASK and its cause, and leaves none of the batch queued', async () => {
    const backend = new EngineBackend(engine, { mode: 'local' });
    const boom = new Error('source broke');
    const delivered: number[] = [];
    const run = backend.runBatch({
      tasks: { count: 50, task: (i) => { if (i === 20) throw boom; return { kind: 'remote.slow', params: [1, i] }; } },
      maxInFlight: 8,
      onResult: (i) => delivered.push(i),
    });
    const err = await run.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).code).toBe('INVALID_TASK');
    expect((err as Error).cause).toBe(boom);
    expect(delivered).toEqual(delivered.map((_, i) => i)); // in order, none twice
    expect(delivered.length).toBeLessThanOrEqual(20);
    // The engine's books: the batch's queued jobs were cancelled; what ran comes back to poll.
    while (engine.inFlight > 0) {
      engine.poll(() => {});
      await new Promise((r) => setTimeout(r, 1));
    }
    // The backend is free for the next batch.
    expect((await collect(backend, 3, mixTask)).summary.completed).toBe(3);
  });

  it('reads a batch once: a throwing getter, a callback that is not a function, a foreign signal and a bad runId are refused', async () => {
    const backend = new EngineBackend(engine, { mode: 'local' });
    const tasks = { count: 1, task: mixTask };
    const onResult = (): void => {};
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); } });
    await expectCode(backend.runBatch({ tasks, get onResult(): () => void { throw new Error('getter'); } }), 'INVALID_TASK');
    await expectCode(backend.runBatch(trap as BatchRun), 'INVALID_TASK');
    await expectCode(backend.runBatch({ tasks: trap as never, onResult }), 'INVALID_TASK');
    await expectCode(backend.runBatch({ tasks, onResult, skip: 5 as never }), 'INVALID_TASK');
    await expectCode(backend.runBatch({ tasks, onResult, onProgress: 'x' as never }), 'INVALID_TASK');
    await expectCode(backend.runBatch({ tasks, onResult, signal: { aborted: false, addEventListener() {} } as never }), 'INVALID_TASK');
    await expectCode(backend.runBatch({ tasks, onResult, signal: new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } }) as never }), 'INVALID_TASK');
    await expectCode(backend.runBatch({ tasks, onResult, runId: 7 as never }), 'INVALID_OPTION');
    await expectCode(backend.runBatch({ tasks: { count: 1.5, task: mixTask }, onResult }), 'INVALID_TASK');
    // A method source keeps its `this`; tasks.count is read once.
    let countReads = 0;
    const source = {
      base: 100,
      get count() {
        countReads++;
        return countReads === 1 ? 2 : 1e9;
      },
      task(this: { base: number }, i: number): Task {
        return mixTask(this.base + i);
      },
    };
    const got = await collect(backend, 0, mixTask, { tasks: source });
    expect(got.order).toEqual([0, 1]);
    expect(got.results).toEqual((await collect(backend, 2, (i) => mixTask(100 + i))).results);
    expect(countReads).toBe(1);
  });

  it('groups read each task once (the first one too) and route by the kind first read', async () => {
    const calls = new Map<number, number>();
    const groups = new JobGroups({ engine });
    const n = 10;
    await groups.runBatch({
      tasks: { count: n, task: (i) => { calls.set(i, (calls.get(i) ?? 0) + 1); return mixTask(i); } },
      onResult: () => {},
    });
    expect([...calls.entries()].sort((a, b) => a[0] - b[0])).toEqual(Array.from({ length: n }, (_, i) => [i, 1]));

    // A remote group: the backend gets frozen tasks as first read, so a kind that turns into a
    // frame-deadline kind on its second read is not what gets queued; a real one is refused.
    const seen: Task[] = [];
    const recorder: BatchBackend = {
      name: 'bullmq',
      async runBatch(batch) {
        for (let i = 0; i < batch.tasks.count; i++) seen.push(batch.tasks.task(i));
        return { completed: batch.tasks.count, failed: 0, skipped: 0, duplicates: 0, redelivered: 0 };
      },
      async close() {},
    };
    const remote = new JobGroups({ engine, defaults: { backend: 'bullmq' }, bullmq: recorder });
    const turning = (i: number): Task => {
      let reads = 0;
      return { get kind() { return reads++ === 0 ? 'remote.mix' : 'remote.frame'; }, params: [i, 0] };
    };
    expect((await remote.runBatch({ tasks: { count: 3, task: turning }, onResult: () => {} })).backend).toBe('bullmq');
    expect(seen.map((t) => t.kind)).toEqual(['remote.mix', 'remote.mix', 'remote.mix']);
    expect(seen.every((t) => Object.isFrozen(t))).toBe(true);
    const mixed = { tasks: { count: 5, task: (i: number): Task => (i === 3 ? { kind: 'remote.frame', params: [i] } : mixTask(i)) }, onResult: () => {} };
    await expectCode(remote.runBatch(mixed), 'FRAME_DEADLINE_REMOTE');
  });

  it('groups refuse options, layers and runs that cannot be read with INVALID_OPTION', async () => {
    const fail = (): never => {
      throw new Error('trap');
    };
    const trap = new Proxy({}, { get: fail, ownKeys: fail, getOwnPropertyDescriptor: fail });
    expect(() => new JobGroups(trap as never)).toThrow(BackendError);
    for (const options of [{ engine, defaults: trap }, { engine, kinds: trap }, { engine, kinds: { 'remote.mix': trap } }, { engine, kinds: 5 }, { engine, bullmq: 5 }]) {
      await expectCode(() => new JobGroups(options as never), 'INVALID_OPTION');
    }
    const groups = new JobGroups({ engine });
    const batch: BatchRun = { tasks: { count: 1, task: mixTask }, onResult: () => {} };
    await expectCode(groups.runBatch(batch, trap as never), 'INVALID_OPTION');
    await expectCode(groups.runBatch(batch, { kind: 5 as never }), 'INVALID_OPTION');
    await expectCode(groups.runBatch(batch, { group: trap as never }), 'INVALID_OPTION');
    await expectCode(groups.runBatch(batch, { group: { backend: trap as never } }), 'INVALID_OPTION');
    await expectCode(() => groups.resolve(5 as never), 'INVALID_OPTION');
    // A layer whose backend reads differently each time is read once.
    let reads = 0;
    const layer = { get backend() { return reads++ === 0 ? 'inline' : ('bullmq' as const); } };
    expect((await groups.runBatch(batch, { group: layer as never })).backend).toBe('inline');
    expect(reads).toBe(1);
  });

  it('routes a batch by group, per-kind default and engine default; code without a group gets the built-in', async () => {
    const groups = new JobGroups({ engine, defaults: { backend: 'inline' }, kinds: { 'remote.slow': { backend: 'local', maxInFlight: 3 } } });
    const run = (kind: string, group?: { backend?: 'inline' | 'local' | 'bullmq' }) =>
      groups.runBatch({ tasks: { count: 4, task: (i) => (kind === 'remote.slow' ? { kind, params: [0, i] } : mixTask(i)) }, onResult: () => {} }, { group });
    expect((await run('remote.mix')).backend).toBe('inline'); // engine default
    expect((await run('remote.slow')).backend).toBe('local'); // per-kind default
    expect((await run('remote.slow', { backend: 'inline' })).backend).toBe('inline'); // group wins
    expect(groups.resolve('remote.slow')).toEqual({ backend: 'local', maxInFlight: 3 });
    const plain = new JobGroups({ engine });
    expect(plain.resolve('remote.mix')).toEqual(BUILT_IN_GROUP_CONFIG);
    expect(() => new JobGroups({ engine, defaults: { backend: 'redis' as never } })).toThrow(BackendError);
    await expectCode(run('remote.mix', { backend: 'bullmq' }), 'INVALID_OPTION'); // no bullmq backend configured
  });

  it('refuses a frame-deadline kind on bullmq with FRAME_DEADLINE_REMOTE before anything is queued', async () => {
    let connected = 0;
    const groups = new JobGroups({
      engine,
      kinds: { 'remote.frame': { backend: 'bullmq' } },
      bullmq: async () => {
        connected++;
        throw new Error('not reached');
      },
    });
    await expectCode(() => groups.resolve('remote.frame'), 'FRAME_DEADLINE_REMOTE');
    const batch: BatchRun = { tasks: { count: 2, task: (i) => ({ kind: 'remote.frame', params: [i] }) }, onResult: () => {} };
    await expectCode(groups.runBatch(batch), 'FRAME_DEADLINE_REMOTE');
    await expectCode(groups.runBatch(batch, { group: { backend: 'bullmq' }, kind: 'remote.frame' }), 'FRAME_DEADLINE_REMOTE');
    expect(connected).toBe(0);
    // The same kind runs locally as before.
    expect((await groups.runBatch(batch, { group: { backend: 'local' } })).completed).toBe(2);
  });
});

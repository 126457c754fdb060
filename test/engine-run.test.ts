/**
 * engine.run(kind, params, { signal }): one job as a promise, for loading screens and
 * tools. It settles exactly once: on success, on failure, on abort (cancelled if it had
 * not started), when its worker dies, and at shutdown.
 * Its outcome never reaches a poll callback, and the engine's own polling for it never
 * takes anyone else's result.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { accountingHolds, fixtureKinds, fixtureModule, pollUntil, startEngine } from './fixtures/engine.js';

const runner = (e: EngineCore): EngineCore => e;

// A test that fakes timers and fails before it restores them must not stall the others.
afterEach(() => {
  vi.useRealTimers();
});

/** Resolves to 'fulfilled' or the rejection, and counts how often the promise settled (must be once). */
async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await p };
  } catch (error) {
    return { error };
  }
}

describe('engine.run', () => {
  it('resolves with the values, on two workers, by kind name or id', async () => {
    const e = await startEngine({ workers: 2 });
    try {
      const a = await runner(e).run('test.echo', [3, 4]);
      expect(Array.from(a.values).slice(0, 2)).toEqual([3, 4]);
      const b = await runner(e).run(e.kindId('noop'), [1, 2]);
      expect(b.values[0]).toBe(3);
      const many = await Promise.all(Array.from({ length: 200 }, (_, i) => runner(e).run('noop', [i, 1])));
      expect(many.map((r) => r.values[0])).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    } finally {
      await e.shutdown();
    }
  });

  it('is woken by the worker that publishes its result, not by a timer', async () => {
    const e = await startEngine({ workers: 2 });
    // From here no setTimeout fires: every run() below settles only because a worker's
    // result wakes the engine's pump (whenResults' wake). A pump on a timer would hang.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      for (let i = 0; i < 100; i++) expect((await runner(e).run('noop', [i, 1])).values[0]).toBe(i + 1);
      const many = await Promise.all(Array.from({ length: 100 }, (_, i) => runner(e).run('noop', [i, 2])));
      expect(many.map((r) => r.values[0])).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
      expect(accountingHolds(e)).toBe(true);
    } finally {
      vi.useRealTimers();
      await e.shutdown();
    }
  });

  it('rejects with a JobError when the handler throws', async () => {
    const e = await startEngine({ workers: 2 });
    try {
      const r = await settle(runner(e).run('test.throw', [7]));
      expect(r.error).toBeInstanceOf(EngineError);
      expect((r.error as { reason?: string }).reason).toBe('threw');
    } finally {
      await e.shutdown();
    }
  });

  it('rejects an unknown kind and bad params with an EngineError', async () => {
    const e = await startEngine({ workers: 2 });
    try {
      expect((await settle(runner(e).run('no.such.kind', []))).error).toBeInstanceOf(EngineError);
      expect((await settle(runner(e).run('noop', [1]))).error).toBeInstanceOf(EngineError);
    } finally {
      await e.shutdown();
    }
  });

  it('hostile options: each rejects INVALID_ARGUMENT with nothing submitted, and each option is read once', async () => {
    const e = await startEngine({ workers: 2 });
    try {
      const before = e.stats();
      const throwing = (key: string): object =>
        Object.defineProperty({}, key, {
          get() {
            throw new Error(`getter ${key}`);
          },
        });
      const ac = new AbortController();
      const signalProxy = new Proxy(ac.signal, {
        get() {
          throw new Error('trap');
        },
      });
      const noisy = new AbortController().signal;
      Object.defineProperty(noisy, 'addEventListener', {
        value: () => {
          throw new Error('addEventListener');
        },
      });
      const cases: [string, unknown][] = [
        ['opts null', null],
        ['opts a number', 5],
        ['a signal that is not an AbortSignal', { signal: { aborted: false } }],
        ['a number for a signal', { signal: 5 }],
        ['a Proxy of an AbortSignal whose every read throws', { signal: signalProxy }],
        ['a signal whose addEventListener throws', { signal: noisy }],
        ['a throwing signal getter', throwing('signal')],
        ['a throwing deadlineFrames getter', throwing('deadlineFrames')],
        ['a throwing lane getter', throwing('lane')],
        ['a throwing after getter', throwing('after')],
        // A Proxy whose every trap throws: instanceof and a message built from it must not rethrow.
        ['a signal whose prototype cannot be read', { signal: new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } }) }],
        ['a getter that throws such a Proxy', Object.defineProperty({}, 'lane', { get: () => { throw new Proxy({}, { get: () => { throw new Error('trap'); } }); } })],
      ];
      for (const [name, opts] of cases) {
        const r = await settle(runner(e).run('noop', [1, 2], opts as never));
        expect([name, (r.error as { code?: string } | undefined)?.code]).toEqual([name, 'INVALID_ARGUMENT']);
      }
      // Read once: a getter that answers differently the second time is not asked again.
      let reads = 0;
      const flaky = Object.defineProperty({}, 'deadlineFrames', {
        get() {
          reads++;
          return reads === 1 ? undefined : -1;
        },
      });
      const ok = await settle(runner(e).run('noop', [1, 2], flaky as never));
      expect(ok.error).toBeUndefined();
      expect(reads).toBe(1);
      // Nothing was submitted for the refused calls; the last one ran.
      const after = e.stats();
      expect(after.submitted - before.submitted).toBe(1);
      expect(after.completed - before.completed).toBe(1);
      expect(accountingHolds(e)).toBe(true);
    } finally {
      await e.shutdown();
    }
  });

  it('an aborted job that had not started is cancelled and rejects once; an already aborted signal rejects at once', async () => {
    // The worker is held inside a latch job, so the next job waits in its ring and cannot
    // start. (With two workers, which one a job goes to is the dispatcher's choice: the
    // waiting job could find the other one free.) No hang verdict while it is held.
    const latch = new SharedArrayBuffer(12);
    const words = new Int32Array(latch);
    const e = await startEngine({ workers: 1, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } });
    try {
      const held = runner(e).run('test.latch', []);
      for (let i = 0; i < 10_000 && Atomics.load(words, 1) < 1; i++) await new Promise((r) => setTimeout(r, 2));
      expect(Atomics.load(words, 1)).toBe(1);
      const ac = new AbortController();
      const waiting = settle(runner(e).run('noop', [1, 2], { signal: ac.signal }));
      ac.abort();
      const r = await waiting;
      expect((r.error as { code?: string }).code).toBe('ABORTED');
      expect(e.stats().cancelled).toBe(1);
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      await held;
      const pre = new AbortController();
      pre.abort();
      expect(((await settle(runner(e).run('noop', [1, 2], { signal: pre.signal }))).error as { code?: string }).code).toBe('ABORTED');
      expect(e.stats()).toMatchObject({ cancelled: 1, completed: 1, inFlight: 0 });
      expect(accountingHolds(e)).toBe(true);
    } finally {
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      await e.shutdown();
    }
  });

  it('rejects with worker-lost when its worker dies, and at shutdown for jobs still waiting', async () => {
    const e = await startEngine({ workers: 2 });
    const crash = settle(runner(e).run('test.crash', [3]));
    const r = await crash;
    expect((r.error as { reason?: string }).reason).toBe('worker-lost');
    const hung = [settle(runner(e).run('test.hang', [])), settle(runner(e).run('test.hang', []))];
    const queued = settle(runner(e).run('noop', [1, 2]));
    await e.shutdown({ timeoutMs: 100 });
    for (const h of [...(await Promise.all(hung)), await queued]) expect(h.error).toBeInstanceOf(EngineError);
  });
});

describe('engine.run beside a game that polls', () => {
  it('run() outcomes go to their promises and poll() results to the callback, none to both, none lost', async () => {
    for (const workers of [2, 0]) {
      const e = await startEngine({ workers });
      try {
        const ECHO = e.kindId('test.echo');
        const polled = new Map<number, number>();
        const gameIds: number[] = [];
        const runs: Promise<unknown>[] = [];
        for (let i = 0; i < 300; i++) {
          if (i % 3 === 0) runs.push(e.run('noop', [i, 1]).then((r) => r.values[0]));
          else gameIds.push(e.submit(ECHO, [i, 0]));
        }
        // The game polls only now and then; the run() promises settle anyway.
        const values = Promise.all(runs);
        await pollUntil(e, (r) => polled.set(r.jobId, (polled.get(r.jobId) ?? 0) + 1), () => polled.size === gameIds.length);
        expect(await values).toEqual(Array.from({ length: 100 }, (_, k) => 3 * k + 1));
        expect([...polled.keys()].sort()).toEqual([...gameIds].sort());
        expect([...polled.values()].every((n) => n === 1)).toBe(true);
        expect(e.inFlight).toBe(0);
        expect(accountingHolds(e)).toBe(true);
      } finally {
        await e.shutdown();
      }
    }
  });

  it('a run() job whose deadline passes before it starts rejects EXPIRED', async () => {
    const e = await startEngine({ workers: 1, hangTimeoutMs: 60_000 });
    try {
      const busy = e.run('test.busy', [2000]); // holds the one worker past both frames below
      const p = settle(e.run('noop', [1, 2]));
      e.beginFrame(1);
      const late = settle(e.run('noop', [1, 2], { deadlineFrames: 0 }));
      e.beginFrame(5);
      await busy;
      expect(((await late).error as { code?: string }).code).toBe('EXPIRED');
      expect((await p).value).toBeDefined();
    } finally {
      await e.shutdown();
    }
  });

  it('a run() job still queued at shutdown rejects CANCELLED', async () => {
    // The one worker is held inside a job by a latch, so the second job is surely queued.
    const latch = new SharedArrayBuffer(12);
    const words = new Int32Array(latch);
    const e = await EngineCore.start({ workers: 1, heartbeatMs: 20, hangTimeoutMs: 30_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } });
    const hold = settle(e.run('test.latch', []));
    for (let i = 0; i < 5000 && Atomics.load(words, 1) < 1; i++) await new Promise((r) => setTimeout(r, 1));
    expect(Atomics.load(words, 1)).toBe(1);
    const queued = settle(e.run('noop', [1, 2]));
    // The latch stays shut until shutdown is over: opened earlier, the worker could take
    // the queued job before shutdown cancels it. The held job fails with reason shutdown.
    try {
      await e.shutdown({ timeoutMs: 0 });
      expect(((await queued).error as { code?: string }).code).toBe('CANCELLED');
      expect(((await hold).error as { reason?: string }).reason).toBe('shutdown');
      expect(e.stats()).toMatchObject({ cancelled: 1, failed: 1, inFlight: 0 });
    } finally {
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
    }
  });
});

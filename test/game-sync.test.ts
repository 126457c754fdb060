import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Session } from 'node:inspector/promises';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}
import { EngineCore } from '../engine/core.js';
import { MAX_RESULTS } from '../engine/kind.js';
import { kinds as builtinKinds } from '../engine/builtin-kinds.js';
import { KindRunner } from '../frame/kind-runner.js';
import { FrameSync, type Channel } from '../frame/sync.js';
import { sleep } from '../game/time.js';
import { codeOf, pollUntil, resultsIn } from './fixtures/engine.js';

const SEED = Number(process.env.GAME_SEED ?? 12345);
let engine: EngineCore;
/** The same with frame pacing on: for the allocation test's paced flushes. */
let paced: EngineCore;
let runner: KindRunner;

beforeAll(async () => {
  // Tests below assert which worker ran what. With frame pacing the lead may be awake at a
  // frame's start, and keeps a flush of little estimated work to itself, depending on
  // where the test's own frames fall in its window: so this engine does not pace (the
  // default, said here because the placement depends on it).
  engine = await EngineCore.start({ workers: 2, framePacing: false });
  paced = await EngineCore.start({ workers: 2, framePacing: true });
  runner = await KindRunner.create(builtinKinds, { workerIndex: -1, shared: {}, config: {} });
});
afterAll(async () => {
  await engine?.shutdown({ timeoutMs: 2000 });
  await paced?.shutdown({ timeoutMs: 2000 });
});


/** The compute-heavy kind's checksum, computed here for comparison. */
function heavy(seed: number, iterations: number): number {
  const out = runner.run(runner.indexOf('compute-heavy'), [seed, iterations]);
  return out[0];
}

/**
 * Takes what a test left in flight (a bundle's late results the test no longer wants): a
 * bundle's jobs share one result record, which resultsIn, counting records against jobs,
 * would wait for forever.
 */
async function drained(): Promise<void> {
  await pollUntil(engine, () => {}, () => engine.inFlight === 0);
}

interface Applied {
  key: number;
  frame: number;
  value: number;
}

function channel(sync: FrameSync, kind: string, keys: number, log: Applied[], opts: { policy?: 'deterministic' | 'bestEffort'; k?: number; maxAge?: number; bundle?: boolean; parts?: number } = {}): Channel {
  return sync.addChannel({
    kind, keys, policy: opts.policy, applyAfterFrames: opts.k, maxAgeFrames: opts.maxAge, bundle: opts.bundle, bundleParts: opts.parts,
    apply: (ch, key, frame) => log.push({ key, frame, value: ch.values[key * MAX_RESULTS] }),
  });
}

/**
 * Frame 0: six heavy jobs on a deterministic compute-heavy channel, flushed. Bundled, they
 * go as one bundle: six jobs on one worker, which the main thread computing three of them
 * does not overtake (split in two, a worker's three race the main thread's three).
 */
function requestHeavy(sync: FrameSync, log: Applied[], bundle = false): { ch: Channel; p: Float64Array } {
  const ch = channel(sync, 'compute-heavy', 6, log, { bundle, parts: 1 });
  const p = new Float64Array(2);
  sync.beginFrame(0);
  for (let key = 0; key < 6; key++) {
    p[0] = SEED + key;
    p[1] = 20_000;
    sync.request(ch, key, p, 2);
  }
  sync.flush();
  return { ch, p };
}

describe(`frame sync on a 2-worker engine (seed ${SEED})`, () => {
  for (const [k, bundle] of [[1, false], [2, false], [1, true], [2, true]] as const) {
    test(`deterministic K=${k}${bundle ? ', requests in bundles' : ''}: every result applied exactly at submit + ${k}, in key order, with the right value`, async () => {
      const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: k });
      const log: Applied[] = [];
      const ch = channel(sync, 'noop', 64, log, { bundle });
      const p = new Float64Array(2);
      let rnd = SEED;
      const want = new Map<string, number>();
      for (let f = 0; f < 40; f++) {
        sync.beginFrame(f);
        for (let i = 0; i < 8; i++) {
          rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
          const key = rnd % 64;
          if (sync.pending(ch, key)) continue;
          p[0] = f;
          p[1] = key;
          sync.request(ch, key, p, 2);
          want.set(`${key}@${f + k}`, f + key);
        }
        sync.flush();
        expect(sync.rejected).toBe(0);
        // Some frames give the workers time, some do not: the outcome must not care.
        if (f % 3 === 0) await sleep(2);
      }
      for (let f = 40; f < 40 + k + 1; f++) sync.beginFrame(f);
      expect(log.length).toBe(want.size);
      for (const a of log) expect(want.get(`${a.key}@${a.frame}`), `key ${a.key} frame ${a.frame}`).toBe(a.value);
      for (let i = 1; i < log.length; i++) {
        if (log[i].frame === log[i - 1].frame) expect(log[i].key).toBeGreaterThan(log[i - 1].key);
      }
      const m = sync.metrics();
      expect(m.applied_after_frames[String(k) as '1' | '2']).toBe(want.size);
      expect(m.jobs.applied).toBe(want.size);
    });
  }

  test.each([false, true])('deterministic (bundle %s): a result not in by its frame is computed on the spot, never waited for', async (bundle) => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 1 });
    const log: Applied[] = [];
    requestHeavy(sync, log, bundle);
    // Frame 1 comes at once: two workers cannot have finished six heavy jobs.
    sync.beginFrame(1);
    expect(log.map((a) => a.frame)).toEqual([1, 1, 1, 1, 1, 1]);
    for (const a of log) expect(a.value).toBe(heavy(SEED + a.key, 20_000));
    expect(sync.inlineFallbacks + sync.lostFallbacks).toBeGreaterThanOrEqual(4);
    // Late worker results for those jobs are dropped, not applied twice.
    await sleep(100);
    sync.beginFrame(2);
    sync.beginFrame(3);
    expect(log.length).toBe(6);
    await drained();
  });

  test.each([false, true])('deterministic (bundle %s): a job whose worker is killed is still applied at its frame with the right value', async (bundle) => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 2 });
    const log: Applied[] = [];
    const ch = channel(sync, 'compute-heavy', 4, log, { bundle });
    const p = new Float64Array(2);
    sync.beginFrame(0);
    for (let key = 0; key < 4; key++) {
      p[0] = SEED * 3 + key;
      p[1] = 30_000;
      sync.request(ch, key, p, 2);
    }
    sync.flush();
    await sleep(5);
    engine.killWorker(0);
    engine.killWorker(1);
    await sleep(150);
    sync.beginFrame(1);
    sync.beginFrame(2);
    expect(log.length).toBe(4);
    for (const a of log) {
      expect(a.frame).toBe(2);
      expect(a.value).toBe(heavy(SEED * 3 + a.key, 30_000));
    }
    // Let the respawns finish before the next test.
    for (let i = 0; i < 3000 && engine.health().some((h) => h.state !== 'alive'); i++) await sleep(20);
    for (const h of engine.health()) expect(['alive', 'stale']).toContain(h.state);
    await drained();
  });

  test.each([false, true])('a newer request for a key supersedes the unapplied one (bundle %s)', async (bundle) => {
    for (const policy of ['deterministic', 'bestEffort'] as const) {
      const sync = new FrameSync(engine, runner, { policy, applyAfterFrames: 2, maxAgeFrames: 100 });
      const log: Applied[] = [];
      const ch = channel(sync, 'noop', 4, log, { bundle });
      const p = new Float64Array(2);
      sync.beginFrame(0);
      p[0] = 1; p[1] = 1;
      sync.request(ch, 3, p, 2);
      p[0] = 5; p[1] = 5;
      sync.request(ch, 3, p, 2); // supersedes one still queued
      sync.flush();
      p[0] = 10; p[1] = 10;
      sync.request(ch, 3, p, 2); // supersedes one the engine has
      sync.flush();
      await resultsIn(engine);
      for (let f = 1; f <= 3; f++) sync.beginFrame(f);
      expect(log, policy).toEqual([expect.objectContaining({ key: 3, value: 20 })]);
      expect(sync.supersededJobs).toBe(2);
      expect(sync.submitted).toBe(2);
    }
  });

  test('bestEffort: applied when polled; results older than their max age are dropped and counted', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'bestEffort', maxAgeFrames: 1 });
    const log: Applied[] = [];
    const ch = channel(sync, 'noop', 8, log);
    const p = new Float64Array(2);
    sync.beginFrame(0);
    p[0] = 2; p[1] = 3;
    sync.request(ch, 0, p, 2);
    sync.flush();
    await resultsIn(engine);
    sync.beginFrame(1); // one frame old: applied
    expect(log).toEqual([{ key: 0, frame: 1, value: 5 }]);
    p[0] = 4;
    sync.request(ch, 1, p, 2);
    sync.flush();
    await resultsIn(engine);
    sync.beginFrame(5); // four frames old: dropped
    sync.beginFrame(6);
    expect(log.length).toBe(1);
    expect(sync.droppedStale).toBe(1);
    expect(sync.metrics().applied_after_frames['1']).toBe(1);
  });

  test('bad options and channels are refused with codes', () => {
    expect(() => new FrameSync(engine, runner, { policy: 'sometimes' as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FrameSync(engine, runner, { applyAfterFrames: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FrameSync(engine, runner, { maxAgeFrames: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const sync = new FrameSync(engine, runner);
    expect(() => sync.addChannel({ kind: 'teleport', keys: 1, apply: () => {} })).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND' }));
    expect(() => sync.addChannel({ kind: 'noop', keys: 0, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => sync.addChannel({ kind: 'noop', keys: 1, payloadBytes: 6, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => sync.addChannel({ kind: 'noop', keys: 1, payloadBytes: 8, inputBytes: 16, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => sync.addChannel({ kind: 'noop', keys: 1, bundle: 'yes' as never, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => sync.addChannel({ kind: 'noop', keys: 1, bundle: true, payloadBytes: 8, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    const noBundles = { ...engine, kindId: (n: string) => engine.kindId(n), submitBundle: undefined } as never;
    expect(() => new FrameSync(noBundles, runner).addChannel({ kind: 'noop', keys: 1, bundle: true, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    sync.addChannel({ kind: 'noop', keys: 1, apply: () => {} });
    expect(() => sync.addChannel({ kind: 'noop', keys: 1, apply: () => {} })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  test('a bundle channel flushing more requests than one bundle holds sends several, every key applied once', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 2 });
    const KEYS = 70_000;
    const got = new Int32Array(KEYS);
    let wrong = 0;
    const ch = sync.addChannel({
      kind: 'noop', keys: KEYS, bundle: true,
      apply: (c, key, frame) => {
        got[key]++;
        if (frame !== 2 || c.values[key * MAX_RESULTS] !== key + 1) wrong++;
      },
    });
    const p = new Float64Array(2);
    const before = engine.stats();
    sync.beginFrame(0);
    for (let key = 0; key < KEYS; key++) {
      p[0] = key;
      p[1] = 1;
      sync.request(ch, key, p, 2);
    }
    sync.flush();
    const after = engine.stats();
    expect([after.submitted - before.submitted, after.rejected - before.rejected]).toEqual([KEYS, 0]);
    await drained();
    for (let f = 1; f <= 3; f++) sync.beginFrame(f);
    expect(wrong).toBe(0);
    expect(got.every((n) => n === 1)).toBe(true);
    expect(sync.rejected).toBe(0);
  });

  test('a bundle channel: one bundle per flush, each key applied on its own; a key superseded inside a bundle is ignored, the bundle not cancelled', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 2 });
    const log: Applied[] = [];
    const ch = channel(sync, 'noop', 300, log, { bundle: true, parts: 1 });
    const p = new Float64Array(2);
    const before = engine.stats();
    sync.beginFrame(0);
    for (let key = 0; key < 300; key++) {
      p[0] = key;
      p[1] = 1;
      sync.request(ch, key, p, 2);
    }
    sync.flush();
    // One job id (one record) for 300 jobs.
    expect(engine.stats().submitted - before.submitted).toBe(300);
    expect(new Set(ch.jobId).size).toBe(1);
    p[0] = 1000;
    sync.request(ch, 7, p, 2);
    sync.flush();
    await sleep(20);
    for (let f = 1; f <= 3; f++) sync.beginFrame(f);
    expect(log.length).toBe(300);
    expect(log.filter((a) => a.key === 7)).toEqual([{ key: 7, frame: 2, value: 1001 }]);
    expect(log.filter((a) => a.key !== 7).every((a) => a.frame === 2 && a.value === a.key + 1)).toBe(true);
    expect(sync.supersededJobs).toBe(1);
    expect(sync.submitted).toBe(301);
    expect(sync.rejected).toBe(0);
    const s = engine.stats();
    expect(s.cancelled - before.cancelled).toBe(0);
  });

  test('a bundle channel splits each flush into bundleParts near-equal bundles in request order, by default one per worker, and they run on different workers', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 2 });
    const log: Applied[] = [];
    const threeLog: Applied[] = [];
    const byDefault = channel(sync, 'noop', 10, log, { bundle: true });
    const three = channel(sync, 'compute-heavy', 7, threeLog, { bundle: true, parts: 3 });
    const p = new Float64Array(2);
    sync.beginFrame(0);
    // Requested out of key order: the parts follow the requests.
    const order = [6, 0, 5, 1, 4, 2, 3];
    for (let key = 0; key < 10; key++) {
      p[0] = key;
      p[1] = 1;
      sync.request(byDefault, key, p, 2);
    }
    for (const key of order) {
      p[0] = key;
      p[1] = 10;
      sync.request(three, key, p, 2);
    }
    sync.flush();
    /** The keys each job id holds, in the order of `keys`. */
    const partsOf = (ch: Channel, keys: readonly number[]): number[][] => {
      const by = new Map<number, number[]>();
      for (const key of keys) by.set(ch.jobId[key], [...(by.get(ch.jobId[key]) ?? []), key]);
      return [...by.values()];
    };
    expect(partsOf(byDefault, [...Array(10).keys()])).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    expect(partsOf(three, order)).toEqual([[6, 0], [5, 1], [4, 2, 3]]);
    // Fewer requests than parts: a bundle each. These supersede keys 0 and 1 of frame 0.
    sync.beginFrame(1);
    sync.request(three, 0, Float64Array.of(50, 10), 2);
    sync.request(three, 1, Float64Array.of(51, 10), 2);
    sync.flush();
    expect(partsOf(three, [0, 1])).toEqual([[0], [1]]);
    await drained();
    for (let f = 2; f <= 4; f++) sync.beginFrame(f);
    expect(log).toEqual([...Array(10).keys()].map((key) => ({ key, frame: 2, value: key + 1 })));
    expect(threeLog).toEqual([
      ...[2, 3, 4, 5, 6].map((key) => ({ key, frame: 2, value: heavy(key, 10) })),
      { key: 0, frame: 3, value: heavy(50, 10) },
      { key: 1, frame: 3, value: heavy(51, 10) },
    ]);
    expect([sync.supersededJobs, sync.rejected]).toEqual([2, 0]);

    // Heavy jobs: the two bundles of a flush go to the two workers.
    const heavyLog: Applied[] = [];
    const heavySync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 2 });
    const heavyCh = channel(heavySync, 'compute-heavy', 6, heavyLog, { bundle: true });
    const before = engine.stats().workers.map((w) => w.jobsProcessed);
    heavySync.beginFrame(0);
    for (let key = 0; key < 6; key++) heavySync.request(heavyCh, key, Float64Array.of(SEED + key, 20_000), 2);
    heavySync.flush();
    expect(new Set(heavyCh.jobId).size).toBe(2);
    await drained();
    for (let f = 1; f <= 2; f++) heavySync.beginFrame(f);
    const ran = engine.stats().workers.map((w, i) => w.jobsProcessed - before[i]);
    expect(ran).toEqual([3, 3]);
    expect(heavyLog.map((a) => a.value)).toEqual([0, 1, 2, 3, 4, 5].map((key) => heavy(SEED + key, 20_000)));
  });

  test('hostile options and channel specs are refused INVALID_OPTION, never an untyped throw, and add no channel', () => {
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); } });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const getter = (key: string): object => Object.defineProperty({}, key, { get: () => { throw new Error(key); } });
    const sync = new FrameSync(engine, runner);
    const apply = (): void => {};
    const cases: [string, () => unknown][] = [
      ['null options', () => new FrameSync(engine, runner, null as never)],
      ['BigInt options', () => new FrameSync(engine, runner, 1n as never)],
      ['a trapping Proxy as options', () => new FrameSync(engine, runner, trap as never)],
      ['a revoked Proxy as options', () => new FrameSync(engine, runner, revoked.proxy as never)],
      ['a throwing policy getter', () => new FrameSync(engine, runner, getter('policy'))],
      ['a Symbol applyAfterFrames', () => new FrameSync(engine, runner, { applyAfterFrames: Symbol('k') as never })],
      ['a BigInt maxAgeFrames', () => new FrameSync(engine, runner, { maxAgeFrames: 2n as never })],
      ['a clock that is not a function', () => new FrameSync(engine, runner, { now: 5 as never })],
      ['a null spec', () => sync.addChannel(null as never)],
      ['an undefined spec', () => sync.addChannel(undefined as never)],
      ['a trapping Proxy as spec', () => sync.addChannel(trap as never)],
      ['a throwing keys getter', () => sync.addChannel(Object.assign(getter('keys'), { kind: 'noop', apply }) as never)],
      ['Symbol keys', () => sync.addChannel({ kind: 'noop', keys: Symbol('k') as never, apply })],
      ['BigInt keys', () => sync.addChannel({ kind: 'noop', keys: 4n as never, apply })],
      ['a Symbol policy', () => sync.addChannel({ kind: 'noop', keys: 1, policy: Symbol('p') as never, apply })],
      ['zero bundleParts', () => sync.addChannel({ kind: 'noop', keys: 1, bundle: true, bundleParts: 0, apply })],
      ['fractional bundleParts', () => sync.addChannel({ kind: 'noop', keys: 1, bundle: true, bundleParts: 1.5, apply })],
      ['bundleParts past 64', () => sync.addChannel({ kind: 'noop', keys: 1, bundle: true, bundleParts: 65, apply })],
      ['BigInt bundleParts', () => sync.addChannel({ kind: 'noop', keys: 1, bundle: true, bundleParts: 2n as never, apply })],
      ['a throwing bundleParts getter', () => sync.addChannel(Object.assign(getter('bundleParts'), { kind: 'noop', keys: 1, bundle: true, apply }) as never)],
    ];
    for (const [name, call] of cases) expect([name, codeOf(call)]).toEqual([name, 'INVALID_OPTION']);
    // Nothing was half-added: the kind's one channel is still free.
    expect(sync.addChannel({ kind: 'noop', keys: 1, apply }).index).toBe(0);
  });

  test('request and pending refuse a foreign channel, a bad key, count or params with INVALID_ARGUMENT, changing nothing', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 1 });
    const log: Applied[] = [];
    const ch = channel(sync, 'noop', 4, log);
    const heavyCh = channel(sync, 'compute-heavy', 1, []);
    const other = channel(new FrameSync(engine, runner), 'noop', 4, []);
    const p = Float64Array.of(1, 2);
    const throwing = Object.defineProperty([0, 0], '1', {
      get() {
        throw new Error('param getter');
      },
    });
    const revoked = Proxy.revocable([1, 2], {});
    revoked.revoke();
    sync.beginFrame(0);
    sync.request(ch, 1, p, 2);
    const cases: [string, () => unknown][] = [
      ['a channel of another FrameSync', () => sync.request(other, 0, p, 2)],
      ['not a channel', () => sync.request({ index: 0 } as never, 0, p, 2)],
      ['key out of range', () => sync.request(ch, 4, p, 2)],
      ['negative key', () => sync.request(ch, -1, p, 2)],
      ['fractional key (it would land on key 1)', () => sync.request(ch, 1.5, p, 2)],
      ['NaN key', () => sync.request(ch, Number.NaN, p, 2)],
      ['BigInt key', () => sync.request(ch, 1n as never, p, 2)],
      ['BigInt count', () => sync.request(ch, 0, p, 2n as never)],
      ['negative count', () => sync.request(ch, 0, p, -1)],
      ['a params getter that throws', () => sync.request(ch, 0, throwing, 2)],
      ['revoked Proxy params', () => sync.request(ch, 0, revoked.proxy, 2)],
      ['null params', () => sync.request(ch, 0, null as never, 2)],
      // The engine would refuse these bad-params, and a deterministic channel would then
      // compute them with the runner: the values a worker never runs.
      ['a count the kind does not take', () => sync.request(ch, 0, Float64Array.of(1, 2, 3), 3)],
      ['a short count', () => sync.request(ch, 0, p, 1)],
      ['a NaN parameter', () => sync.request(ch, 0, [Number.NaN, 1], 2)],
      ['a string parameter', () => sync.request(ch, 0, ['1', 2] as never, 2)],
      ['a fractional int32 parameter', () => sync.request(heavyCh, 0, [1.5, 10], 2)],
      ['an int32 parameter past its max', () => sync.request(heavyCh, 0, [1, 100_001], 2)],
      ['pending with a bad key', () => sync.pending(ch, 9)],
    ];
    for (const [name, call] of cases) expect([name, codeOf(call)]).toEqual([name, 'INVALID_ARGUMENT']);
    expect([0, 1, 2, 3].map((k) => sync.pending(ch, k))).toEqual([false, true, false, false]);
    expect(ch.superseded).toBe(0);
    sync.flush();
    await resultsIn(engine);
    sync.beginFrame(1);
    expect(log).toEqual([{ key: 1, frame: 1, value: 3 }]);
    expect(sync.submitted).toBe(1);
  });

  test('KindRunner.create refuses kinds it cannot read, hand-made ones that do not hold, and a name twice', async () => {
    const env = { workerIndex: -1, shared: {}, config: {} };
    const fail = (): never => {
      throw new Error('trap');
    };
    const why = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => 'created', (e: unknown) => (e as { code?: string }).code ?? `untyped: ${String(e)}`);
    expect(await why(KindRunner.create(new Proxy([], { get: fail }) as never, env))).toBe('INVALID_OPTION');
    expect(await why(KindRunner.create('noop' as never, env))).toBe('INVALID_OPTION');
    expect(await why(KindRunner.create([new Proxy({}, { get: fail })] as never, env))).toBe('INVALID_KIND');
    expect(await why(KindRunner.create([{ __kind: true, name: 'x', params: [], results: [], run() {} }] as never, env))).toBe('INVALID_KIND');
    expect(await why(KindRunner.create([builtinKinds[0]!, builtinKinds[0]!], env))).toBe('DUPLICATE_KIND');
  });

  test("KindRunner.run checks the kind index and the parameters as the engine's submit does", () => {
    const NOOP = runner.indexOf('noop');
    const HEAVY = runner.indexOf('compute-heavy');
    const revoked = Proxy.revocable([1, 2], {});
    revoked.revoke();
    const cases: [string, () => unknown, string][] = [
      ['an index past the kinds', () => runner.run(99, [1, 2]), 'UNKNOWN_KIND'],
      ['a fractional index', () => runner.run(0.5, [1, 2]), 'UNKNOWN_KIND'],
      ['a BigInt index', () => runner.run(0n as never, [1, 2]), 'UNKNOWN_KIND'],
      ['paramCount of a bad index', () => runner.paramCount(-1), 'UNKNOWN_KIND'],
      ['too few params', () => runner.run(NOOP, [1]), 'INVALID_ARGUMENT'],
      ['a NaN param', () => runner.run(NOOP, [Number.NaN, 1]), 'INVALID_ARGUMENT'],
      ['a BigInt param', () => runner.run(NOOP, [1n, 1] as never), 'INVALID_ARGUMENT'],
      ['a string param', () => runner.run(NOOP, ['1', 1] as never), 'INVALID_ARGUMENT'],
      ['a revoked Proxy', () => runner.run(NOOP, revoked.proxy), 'INVALID_ARGUMENT'],
      ['an int32 param out of bounds', () => runner.run(HEAVY, [1, -1]), 'INVALID_ARGUMENT'],
      ['an arena slice larger than the runner has', () => runner.run(NOOP, [1, 2], 0, 0, 1 << 30), 'INVALID_OPTION'],
    ];
    for (const [name, call, want] of cases) expect([name, codeOf(call)]).toEqual([name, want]);
    expect(runner.run(NOOP, [2, 3])[0]).toBe(5);
    // paramsProblem answers, never throws, for values whose reads throw.
    expect(runner.paramsProblem(NOOP, revoked.proxy, 2)).toContain('could not be read');
    expect(runner.paramsProblem(NOOP, [1, 2], 2)).toBeNull();
  });

  test('an apply callback that throws: the other results due that frame are still applied, then the first error is thrown', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 1 });
    const applied: number[] = [];
    const ch = sync.addChannel({
      kind: 'noop',
      keys: 8,
      apply: (_c, key) => {
        applied.push(key);
        if (key === 2 || key === 5) throw new Error(`apply ${key}`);
      },
    });
    const p = Float64Array.of(1, 1);
    sync.beginFrame(0);
    for (let key = 0; key < 8; key++) sync.request(ch, key, p, 2);
    sync.flush();
    await resultsIn(engine);
    expect(() => sync.beginFrame(1)).toThrow('apply 2');
    expect(applied).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sync.applied).toBe(8);
    expect([...Array(8).keys()].some((k) => sync.pending(ch, k))).toBe(false);
    sync.beginFrame(2);
    expect(applied.length).toBe(8);
  });

  test('a clock that throws or is not a time mid-pass: the pass still applies everything due, then INVALID_OPTION', async () => {
    const boom = new Error('clock broke');
    const faults: [string, () => unknown, unknown][] = [
      ['throws', () => { throw boom; }, boom],
      ['NaN', () => Number.NaN, undefined],
      ['a string', () => '5', undefined],
      ['a BigInt', () => 5n, undefined],
    ];
    for (const [what, fault, cause] of faults) {
      let broken = false;
      let t = 0;
      const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 1, now: () => (broken ? fault() : (t += 0.01)) as number });
      const log: Applied[] = [];
      const { ch, p } = requestHeavy(sync, log);
      broken = true;
      // Frame 1 at once: most of these are computed on the spot, with the clock read between them.
      let err: unknown = null;
      try {
        sync.beginFrame(1);
      } catch (e) {
        err = e;
      }
      expect(codeOf(() => { throw err; }), what).toBe('INVALID_OPTION');
      expect((err as Error).cause, what).toBe(cause);
      expect(log.map((a) => a.key), what).toEqual([0, 1, 2, 3, 4, 5]);
      expect(log.every((a) => a.frame === 1 && a.value === heavy(SEED + a.key, 20_000)), what).toBe(true);
      expect([...Array(6).keys()].some((k) => sync.pending(ch, k)), what).toBe(false);
      // Requests flushed with a broken clock are submitted all the same; the error comes after.
      sync.request(ch, 0, p, 2);
      expect(codeOf(() => sync.flush()), what).toBe('INVALID_OPTION');
      expect(sync.submitted, what).toBe(7);
      broken = false;
      sync.beginFrame(2);
      sync.endRun();
      expect(log.length, what).toBe(7);
      const m = sync.metrics();
      expect(Number.isFinite(m.engine_ms_per_frame.max) && Number.isFinite(m.fallback_ms_total), what).toBe(true);
    }
  });

  test('an apply callback that calls beginFrame, endFrame or endRun gets REENTRANT_CALL; one that requests again is served', async () => {
    const sync = new FrameSync(engine, runner, { policy: 'deterministic', applyAfterFrames: 1 });
    const codes: (string | undefined)[] = [];
    const p = Float64Array.of(2, 2);
    const log: number[] = [];
    const ch: Channel = sync.addChannel({
      kind: 'noop',
      keys: 2,
      apply: (c, key, frame) => {
        log.push(frame);
        if (frame === 1) {
          codes.push(codeOf(() => sync.beginFrame(99)), codeOf(() => sync.endFrame()), codeOf(() => sync.endRun()));
          sync.request(c, key, p, 2);
        }
      },
    });
    sync.beginFrame(0);
    sync.request(ch, 0, p, 2);
    sync.flush();
    await resultsIn(engine);
    sync.beginFrame(1);
    expect(codes).toEqual(['REENTRANT_CALL', 'REENTRANT_CALL', 'REENTRANT_CALL']);
    expect(sync.frame).toBe(1);
    sync.flush();
    await resultsIn(engine);
    sync.beginFrame(2);
    expect(log).toEqual([1, 2]);
  });

  test.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('the per-frame path allocates nothing once warm (requests in bundles: %s, frame pacing: %s)', async (bundle, pacing) => {
    const e = pacing ? paced : engine;
    const sync = new FrameSync(e, runner, { policy: 'deterministic', applyAfterFrames: 2 });
    // A typed-array accumulator: a plain `let` number would box a double per update.
    const sum = new Float64Array(1);
    const ch = sync.addChannel({ kind: 'noop', keys: 256, bundle, apply: (c, key) => { sum[0] += c.values[key * MAX_RESULTS]; } });
    const p = new Float64Array(2);
    // Frames are spaced by Atomics.wait (no allocation, no event-loop turn) so workers
    // deliver most results and the engine's own fallback path is rarely taken.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    // Paced: ten frames 5 ms apart set a cadence first, which the quick frames after them
    // (under 2 ms apart: catch-up steps) leave standing, so every flush looks at the lead.
    const base = pacing ? 10 : 0;
    for (let f = 0; f < base; f++) {
      Atomics.wait(pause, 0, 0, 5);
      sync.beginFrame(f);
    }
    const frame = (f: number): void => {
      Atomics.wait(pause, 0, 0, 0.2);
      sync.beginFrame(base + f);
      for (let key = 0; key < 256; key += 2) {
        p[0] = f; p[1] = key;
        sync.request(ch, (key + f) & 255, p, 2);
      }
      sync.flush();
    };
    for (let f = 0; f < 300; f++) frame(f);
    // V8's sampling heap profiler, told to keep objects that were collected too, counts
    // every allocation in this process during 2000 frames x 128 jobs. (Sites cannot be
    // told apart reliably: inlining folds the game's frames into their callers.) One
    // 16-byte object per job would be 2 KB per frame; the budget covers a handful of
    // clock readings per frame and the engine's occasional inline-fallback allocations.
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 32, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true,
    } as never);
    for (let f = 300; f < 2300; f++) frame(f);
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } };
    session.disconnect();
    const sites = new Map<string, number>();
    const walk = (n: HeapNode): void => {
      // The profiler's own messages are not the frame loop's.
      if (n.selfSize > 0 && !n.callFrame.url.startsWith('node:inspector')) {
        const k = `${n.callFrame.functionName} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
        sites.set(k, (sites.get(k) ?? 0) + n.selfSize);
      }
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    const total = [...sites.values()].reduce((a, b) => a + b, 0);
    const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 5);
    expect(total / 2000, `bytes per frame; top sites ${JSON.stringify(top)}`).toBeLessThan(1024);
    expect(sum[0]).toBeGreaterThan(0);
  });
});

/** Every bad input gets its typed answer: a Rejection code from submit, an EngineError code elsewhere. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { defineKind } from '../engine/kind.js';
import { Rejection } from '../engine/outcome.js';
import { accountingHolds, fixtureKinds, fixtureModule, startEngine } from './fixtures/engine.js';

const code = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return (err as EngineError).code;
  }
  return 'no error';
};

describe('options are validated at start', () => {
  it.each([
    [{ workers: -1 }, 'INVALID_OPTION'],
    [{ workers: 1.5 }, 'INVALID_OPTION'],
    [{ jobCapacity: 1000 }, 'INVALID_OPTION'],
    [{ ringCapacity: 12 }, 'INVALID_OPTION'],
    [{ arenaBytes: 10 }, 'INVALID_OPTION'],
    [{ heartbeatMs: 0 }, 'INVALID_OPTION'],
    [{ hangTimeoutMs: Number.NaN }, 'INVALID_OPTION'],
    [{ maxQueueMs: -5 }, 'INVALID_OPTION'],
    [{ kindModules: [''] }, 'INVALID_OPTION'],
    [{ shared: { nav: new ArrayBuffer(8) as unknown as SharedArrayBuffer } }, 'INVALID_OPTION'],
    [{ workerNice: 20 }, 'INVALID_OPTION'],
    [{ workerNice: -1 }, 'INVALID_OPTION'],
    [{ batchThreads: 'yes' as unknown as boolean }, 'INVALID_OPTION'],
    [{ staleMs: 0 }, 'INVALID_OPTION'],
    [{ initTimeoutMs: Infinity }, 'INVALID_OPTION'],
    [{ heartbeatMs: 2.5 }, 'INVALID_OPTION'],
    [{ maxRespawnsPerMinute: -1 }, 'INVALID_OPTION'],
    [{ resourceLimits: { maxOldGenerationSizeMb: 0 } }, 'INVALID_OPTION'],
    [{ config: 5 as unknown as Record<string, unknown> }, 'INVALID_OPTION'],
    // Every number must fit where it is kept: a header word, a timer, a priority.
    [{ heartbeatMs: 2 ** 31 }, 'INVALID_OPTION'],
    [{ heartbeatMs: 60_001 }, 'INVALID_OPTION'],
    [{ hangTimeoutMs: 2 ** 31 }, 'INVALID_OPTION'],
    [{ staleMs: 2 ** 40 }, 'INVALID_OPTION'],
    [{ initTimeoutMs: 2 ** 31 }, 'INVALID_OPTION'],
    [{ jobCapacity: 2 ** 21 }, 'INVALID_OPTION'],
    [{ ringCapacity: 2 ** 21 }, 'INVALID_OPTION'],
    [{ arenaBytes: 2 ** 31 }, 'INVALID_OPTION'],
    [{ workers: 65 }, 'INVALID_OPTION'],
    [{ backgroundWorkers: 0 }, 'INVALID_OPTION'],
    [{ backgroundWorkers: 65 }, 'INVALID_OPTION'],
    [{ maxRespawnsPerMinute: 2 ** 31 }, 'INVALID_OPTION'],
  ])('%j -> %s', async (opts, want) => {
    expect(await code(EngineCore.start({ workers: 0, ...opts }))).toBe(want);
  });

  it('names the option, the rule and the value', async () => {
    await expect(EngineCore.start({ workers: 0, jobCapacity: 1000 })).rejects.toThrow('options.jobCapacity must be a power of two, got 1000');
  });

  it('rejects a kind module without `kinds`, a missing module and a duplicate kind', async () => {
    expect(await code(EngineCore.start({ workers: 0, kindModules: [fixtureModule('not-a-kind-module')] }))).toBe('KIND_MODULE_FAILED');
    expect(await code(EngineCore.start({ workers: 0, kindModules: [fixtureModule('no-such-module')] }))).toBe('KIND_MODULE_FAILED');
    expect(await code(EngineCore.start({ workers: 0, kindModules: [fixtureKinds, fixtureKinds] }))).toBe('DUPLICATE_KIND');
  });

  it('rejects malformed kind declarations', async () => {
    expect(await code(() => defineKind({ name: '', params: [], results: [], run() {} }))).toBe('INVALID_KIND');
    expect(await code(() => defineKind({ name: 'x', params: new Array(12).fill({ name: 'p', type: 'f64' }), results: [], run() {} }))).toBe('INVALID_KIND');
    expect(await code(() => defineKind({ name: 'x', params: [{ name: 'p', type: 'u8' as 'f64' }], results: [], run() {} }))).toBe('INVALID_KIND');
    expect(await code(() => defineKind({ name: 'x', params: [], results: new Array(11).fill('r'), run() {} }))).toBe('INVALID_KIND');
    // A job is what run does before it returns: an async or generator run is refused.
    expect(await code(() => defineKind({ name: 'x', params: [], results: [], async run() {} }))).toBe('INVALID_KIND');
    expect(await code(() => defineKind({ name: 'x', params: [], results: [], run: async () => {} }))).toBe('INVALID_KIND');
    expect(await code(() => defineKind({ name: 'x', params: [], results: [], *run() {} } as never))).toBe('INVALID_KIND');
  });

  it('reads a kind spec once and refuses hostile ones with INVALID_KIND, never an untyped throw', async () => {
    const fail = (): never => {
      throw new Error('trap');
    };
    const trap = new Proxy({}, { get: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, has: fail });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const base = { name: 'x.k', params: [{ name: 'a', type: 'f64' as const }], results: ['r'], run() {} };
    const revokedRun = Proxy.revocable(() => {}, {});
    revokedRun.revoke();
    const bad: [string, unknown][] = [
      ['a Proxy whose reads throw', trap],
      ['a revoked Proxy', revoked.proxy],
      ['a name getter that throws', { ...base, get name(): string { return fail(); } }],
      ['a run getter that throws', { ...base, get run(): () => void { return fail(); } }],
      ['params that throw', { ...base, params: new Proxy([{ name: 'a', type: 'f64' }], { get: fail }) }],
      ['a param that throws', { ...base, params: [trap] }],
      ['revoked params', { ...base, params: revoked.proxy }],
      ['a BigInt result name', { ...base, results: [1n] }],
      ['a BigInt deadline', { ...base, deadlineFrames: 1n }],
      ['a negative deadline', { ...base, deadlineFrames: -1 }],
      ['a NaN deadline', { ...base, deadlineFrames: Number.NaN }],
      ['a string maxArenaBytes', { ...base, maxArenaBytes: '64' }],
      ['an arenaBytes that is not a function', { ...base, arenaBytes: 64 }],
      ['an init that is not a function', { ...base, init: {} }],
      ['a cleanup that is not a function', { ...base, cleanup: 'x' }],
      ['a BigInt min', { ...base, params: [{ name: 'a', type: 'f64', min: 1n }] }],
      ['a NaN max', { ...base, params: [{ name: 'a', type: 'f64', max: Number.NaN }] }],
      ['min above max', { ...base, params: [{ name: 'a', type: 'i32', min: 2, max: 1 }] }],
      ['a run Proxy whose reads throw', { ...base, run: new Proxy(() => {}, { get: fail }) }],
      ['a revoked run Proxy', { ...base, run: revokedRun.proxy }],
    ];
    for (const [what, spec] of bad) expect(await code(() => defineKind(spec as never)), what).toBe('INVALID_KIND');
    let cause: unknown;
    try {
      defineKind(trap as never);
    } catch (e) {
      cause = (e as Error).cause;
    }
    expect((cause as Error).message).toBe('trap');

    // Each field is read once: what was checked is what the kind holds.
    let nameReads = 0;
    let typeReads = 0;
    const param = {
      name: 'a',
      get type(): 'i32' | 'f64' {
        typeReads++;
        return typeReads === 1 ? 'i32' : ('u8' as 'i32');
      },
      min: 0,
    };
    const kind = defineKind({
      get name(): string {
        nameReads++;
        return nameReads === 1 ? 'x.once' : '';
      },
      params: [param],
      results: ['r'],
      deadlineFrames: 2,
      run(p, out) {
        out[0] = p[0];
      },
    });
    expect([kind.name, kind.params[0]!.type, kind.params[0]!.min, kind.deadlineFrames, nameReads, typeReads]).toEqual(['x.once', 'i32', 0, 2, 1, 1]);
    expect(Object.isFrozen(kind.params) && Object.isFrozen(kind.params[0])).toBe(true);
  });
});

describe('submit answers bad jobs with a reason code', () => {
  let e: EngineCore;
  beforeAll(async () => {
    e = await startEngine({ workers: 2, arenaBytes: 1 << 12 });
  });
  afterAll(async () => {
    await e.shutdown();
  });

  it('unknown kind', () => {
    expect(e.submit(9999, [1, 2])).toBe(Rejection.UnknownKind);
    expect(e.submit(-1, [1, 2])).toBe(Rejection.UnknownKind);
    expect(e.submit(0.5, [1, 2])).toBe(Rejection.UnknownKind);
    expect(() => e.kindId('no.such.kind')).toThrow(expect.objectContaining({ code: 'UNKNOWN_KIND' }));
  });

  it('wrong parameter count, wrong type, NaN, non-integer i32, out of range, bad tag', () => {
    const ECHO = e.kindId('test.echo');
    expect(e.submit(ECHO, [1])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, [1, 2, 3])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, ['1', 2] as unknown as number[])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, [Number.NaN, 2])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, [1, 2.5])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, [1, 2_000_000])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, null as unknown as number[])).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, [1, 2], 1.5)).toBe(Rejection.BadParams);
    expect(e.submit(ECHO, [1, 2], 0, { deadlineFrames: -1 })).toBe(Rejection.BadParams);
  });

  it('oversized payload, full arena and a foreign arena slice', () => {
    const ARENA = e.kindId('test.arena');
    const SUM = e.kindId('test.sum-input');
    // The kind allows 1 MiB but the arena is 4 KiB.
    expect(e.submit(ARENA, [0, 100_000])).toBe(Rejection.PayloadTooLarge);
    // Fill the arena with a caller-held slice, then ask for more.
    const held = e.arenaAlloc(4000);
    expect(held).toBeGreaterThanOrEqual(0);
    expect(e.submit(ARENA, [0, 100])).toBe(Rejection.ArenaFull);
    expect(e.arenaFree(held)).toBe(true);
    expect(e.arenaAlloc(1 << 20)).toBe(-1);
    expect(e.submit(SUM, [4], 0, { arenaOffset: 8, arenaBytes: 16 })).toBe(Rejection.BadParams);
  });

  it('counts every rejection and keeps the books balanced', () => {
    const s = e.stats();
    expect(s.rejected).toBeGreaterThanOrEqual(15);
    expect(s.rejectedByReason['bad-params']).toBeGreaterThanOrEqual(9);
    expect(s.rejectedByReason['unknown-kind']).toBe(3);
    expect(s.rejectedByReason['payload-too-large']).toBe(1);
    expect(s.rejectedByReason['arena-full']).toBe(1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('the admission budget can be changed at run time, and a bad one is a typed error', () => {
    const was = e.maxQueueMs;
    e.maxQueueMs = 2;
    expect(e.maxQueueMs).toBe(2);
    for (const bad of [0, -1, Number.NaN, '5' as unknown as number]) {
      expect(() => {
        e.maxQueueMs = bad;
      }).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    expect(e.maxQueueMs).toBe(2);
    e.maxQueueMs = was;
  });

  it('shutdown with a bad timeout is a typed error', async () => {
    const other = await startEngine({ workers: 0 });
    await expect(other.shutdown({ timeoutMs: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await other.shutdown();
  });

  it('killWorker with a bad index is a typed error', () => {
    expect(() => e.killWorker(7)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

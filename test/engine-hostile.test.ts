/**
 * The caller as part of the threat model: callbacks that re-enter or throw, hostile
 * values (BigInt, Symbol, Proxy, throwing getters, null), arena slices used twice, odd
 * throwables from handlers. Every case ends in a typed error or a rejection code, every
 * accepted job has exactly one outcome, and the books balance.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { Outcome, Rejection } from '../engine/outcome.js';
import { accountingHolds, codeOf, pollUntil, startEngine } from './fixtures/engine.js';

const engines: EngineCore[] = [];
async function engine(workers = 2): Promise<EngineCore> {
  // No hang verdicts: the tests hold workers in long jobs on purpose.
  const e = await startEngine({ workers, jobCapacity: 64, hangTimeoutMs: 60_000 });
  engines.push(e);
  return e;
}
afterEach(async () => {
  for (const e of engines.splice(0)) await e.shutdown({ timeoutMs: 2000 }).catch(() => {});
});

/** Counts outcomes per job id, so a second delivery of any job is seen. */
class Ledger {
  readonly seen = new Map<number, number>();
  readonly status = new Map<number, number>();
  readonly reasons = new Map<number, string | null>();
  record = (r: ResultView): void => {
    this.seen.set(r.jobId, (this.seen.get(r.jobId) ?? 0) + 1);
    this.status.set(r.jobId, r.status);
    this.reasons.set(r.jobId, r.error?.reason ?? null);
  };
  exactlyOnce(ids: readonly number[]): boolean {
    return ids.every((id) => this.seen.get(id) === 1) && [...this.seen.values()].every((n) => n === 1);
  }
}

describe('re-entrant calls from callbacks', () => {
  it('poll inside a poll callback is refused with REENTRANT_CALL; nothing is delivered twice or lost', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const ids = Array.from({ length: 20 }, (_, i) => e.submit(ECHO, [i, i], i));
    const ledger = new Ledger();
    const codes: (string | undefined)[] = [];
    await pollUntil(e, (r) => {
      ledger.record(r);
      codes.push(codeOf(() => e.poll(ledger.record)));
      codes.push(codeOf(() => e.runInline(r.jobId, ledger.record)));
    }, () => ledger.seen.size === ids.length);
    expect(ledger.exactlyOnce(ids)).toBe(true);
    expect(new Set(codes)).toEqual(new Set(['REENTRANT_CALL']));
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
    // The engine still works after all of it.
    const again = e.submit(ECHO, [1, 1]);
    expect(again).toBeGreaterThanOrEqual(0);
    await pollUntil(e, ledger.record, () => ledger.seen.has(again));
  });

  it('a re-entrant poll that is not caught leaves the books straight and the next poll delivers the rest', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const ids = Array.from({ length: 30 }, (_, i) => e.submit(ECHO, [i, i]));
    const ledger = new Ledger();
    let thrown = 0;
    for (let i = 0; i < 20000 && ledger.seen.size < ids.length; i++) {
      try {
        e.poll((r) => {
          ledger.record(r);
          e.poll(ledger.record);
        });
      } catch (err) {
        expect((err as { code?: string }).code).toBe('REENTRANT_CALL');
        thrown++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(thrown).toBe(ids.length);
    expect(ledger.exactlyOnce(ids)).toBe(true);
    expect(accountingHolds(e)).toBe(true);
    expect(e.inFlight).toBe(0);
  });

  it('shutdown from inside a poll callback completes and accounts for every job', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const BUSY = e.kindId('test.busy');
    const ids = [...Array.from({ length: 10 }, (_, i) => e.submit(ECHO, [i, i])), ...Array.from({ length: 4 }, () => e.submit(BUSY, [5]))];
    const ledger = new Ledger();
    let stopping: Promise<unknown> | null = null;
    await pollUntil(e, (r) => {
      ledger.record(r);
      stopping ??= e.shutdown({ timeoutMs: 2000, onResult: ledger.record });
    }, () => stopping !== null);
    const report = await stopping!;
    expect(report).toMatchObject({ timedOut: false });
    expect(ledger.exactlyOnce(ids)).toBe(true);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
    expect(e.submit(ECHO, [1, 1])).toBe(Rejection.ShutDown);
  });

  it('poll from shutdown onResult is refused; shutdown still stops everything, then rejects with that error', async () => {
    const e = await engine();
    const BUSY = e.kindId('test.busy');
    const ids = Array.from({ length: 6 }, () => e.submit(BUSY, [10]));
    const ledger = new Ledger();
    const err = await e
      .shutdown({
        timeoutMs: 5000,
        onResult: (r) => {
          ledger.record(r);
          e.poll(ledger.record);
        },
      })
      .then(
        () => null,
        (x: unknown) => x,
      );
    expect((err as { code?: string }).code).toBe('REENTRANT_CALL');
    expect(ledger.exactlyOnce(ids)).toBe(true);
    expect(e.inFlight).toBe(0);
    expect(e.health().every((h) => h.state === 'dead')).toBe(true);
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('callbacks that throw', () => {
  it('a throwing poll callback costs no job its single outcome, even past jobCapacity throws', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const ledger = new Ledger();
    const all: number[] = [];
    // 64 job slots: leaking one per throw would end in ring-full long before 200 jobs.
    for (let round = 0; round < 10; round++) {
      const ids = Array.from({ length: 20 }, (_, i) => e.submit(ECHO, [i, i]));
      expect(ids.every((id) => id >= 0)).toBe(true);
      all.push(...ids);
      for (let i = 0; i < 20000 && !ids.every((id) => ledger.seen.has(id)); i++) {
        try {
          e.poll((r) => {
            ledger.record(r);
            throw new Error('game bug');
          });
        } catch (err) {
          expect((err as Error).message).toBe('game bug');
        }
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    expect(ledger.exactlyOnce(all)).toBe(true);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a throwing runInline callback: the job has one outcome and its slot is freed', async () => {
    const e = await engine();
    const BUSY = e.kindId('test.busy');
    const ECHO = e.kindId('test.echo');
    // Keep the workers busy so the echo job is still queued when it is taken over.
    for (let i = 0; i < 2; i++) e.submit(BUSY, [2000]);
    const id = e.submit(ECHO, [3, 4]);
    const ledger = new Ledger();
    expect(() =>
      e.runInline(id, (r) => {
        ledger.record(r);
        throw new Error('apply failed');
      }),
    ).toThrow('apply failed');
    expect(ledger.seen.get(id)).toBe(1);
    expect(e.runInline(id, ledger.record)).toBe(false);
    await pollUntil(e, ledger.record, () => e.inFlight === 0);
    expect(ledger.seen.get(id)).toBe(1);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a throwing shutdown onResult: every worker stops and every job is accounted, then it rejects', async () => {
    const e = await engine();
    const BUSY = e.kindId('test.busy');
    const ids = Array.from({ length: 8 }, () => e.submit(BUSY, [5]));
    const ledger = new Ledger();
    await expect(
      e.shutdown({
        onResult: (r) => {
          ledger.record(r);
          throw new Error('sink broke');
        },
      }),
    ).rejects.toThrow('sink broke');
    expect(ledger.exactlyOnce(ids)).toBe(true);
    expect(e.inFlight).toBe(0);
    expect(e.health().every((h) => h.state === 'dead')).toBe(true);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a callback that is not a function is a typed error, and nothing is consumed', async () => {
    const e = await engine();
    const ECHO = e.kindId('test.echo');
    const id = e.submit(ECHO, [1, 2]);
    for (const bad of [null, undefined, 5, 'f', {}]) {
      expect(codeOf(() => e.poll(bad as never))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => e.runInline(id, bad as never))).toBe('INVALID_ARGUMENT');
    }
    await expect(e.shutdown({ onResult: 7 as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(e.shutdown(null as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    const ledger = new Ledger();
    await pollUntil(e, ledger.record, () => ledger.seen.has(id));
    expect(ledger.exactlyOnce([id])).toBe(true);
  });
});

describe('hostile values, each read once', () => {
  const throwingGetter = (key: string): object =>
    Object.defineProperty({}, key, {
      get() {
        throw new Error(`getter ${key}`);
      },
    });

  it('submit answers every hostile value with a code and leaks no slot', async () => {
    const e = await engine(0);
    const ECHO = e.kindId('test.echo');
    const revoked = Proxy.revocable([1, 2], {});
    revoked.revoke();
    const revokedOpts = Proxy.revocable({}, {});
    revokedOpts.revoke();
    const cases: [string, () => number, number][] = [
      ['opts null', () => e.submit(ECHO, [1, 2], 0, null as never), Rejection.BadParams],
      ['opts a number', () => e.submit(ECHO, [1, 2], 0, 5 as never), Rejection.BadParams],
      ['BigInt tag', () => e.submit(ECHO, [1, 2], 10n as never), Rejection.BadParams],
      ['Symbol tag', () => e.submit(ECHO, [1, 2], Symbol('t') as never), Rejection.BadParams],
      ['BigInt kind', () => e.submit(BigInt(ECHO) as never, [1, 2]), Rejection.UnknownKind],
      ['Symbol kind', () => e.submit(Symbol('k') as never, [1, 2]), Rejection.UnknownKind],
      ['BigInt param', () => e.submit(ECHO, [1n, 2] as never), Rejection.BadParams],
      ['Symbol param', () => e.submit(ECHO, [Symbol('p'), 2] as never), Rejection.BadParams],
      ['BigInt deadline', () => e.submit(ECHO, [1, 2], 0, { deadlineFrames: 2n as never }), Rejection.BadParams],
      ['Symbol deadline', () => e.submit(ECHO, [1, 2], 0, { deadlineFrames: Symbol('d') as never }), Rejection.BadParams],
      ['BigInt arena offset', () => e.submit(ECHO, [1, 2], 0, { arenaOffset: 0n as never }), Rejection.BadParams],
      ['null arena offset', () => e.submit(ECHO, [1, 2], 0, { arenaOffset: null as never }), Rejection.BadParams],
      ['throwing params getter', () => e.submit(ECHO, throwingGetter('0') as never), Rejection.BadParams],
      ['throwing length getter', () => e.submit(ECHO, throwingGetter('length') as never), Rejection.BadParams],
      ['throwing opts getter', () => e.submit(ECHO, [1, 2], 0, throwingGetter('deadlineFrames') as never), Rejection.BadParams],
      ['revoked Proxy params', () => e.submit(ECHO, revoked.proxy as never), Rejection.BadParams],
      ['revoked Proxy opts', () => e.submit(ECHO, [1, 2], 0, revokedOpts.proxy as never), Rejection.BadParams],
      ['arenaBytes() throws', () => e.submit(e.kindId('test.arena-bytes-throws'), [1]), Rejection.BadParams],
    ];
    for (const [name, call, want] of cases) {
      let got: number | string;
      try {
        got = call();
      } catch (err) {
        got = `threw ${String(err)}`;
      }
      expect(got, name).toBe(want);
    }
    expect(e.stats().arenaBytesUsed).toBe(0);
    expect(accountingHolds(e)).toBe(true);
    // No slot leaked: the whole table is still there.
    const ids = Array.from({ length: 64 }, (_, i) => e.submit(ECHO, [i, 0]));
    expect(ids.every((id) => id >= 0)).toBe(true);
    e.poll(() => {});
    expect(e.inFlight).toBe(0);
  });

  it('a Proxy that shows one value to the check and another to the copy cannot pass a bad value', async () => {
    const e = await engine(0);
    const ECHO = e.kindId('test.echo');
    let reads = 0;
    const sly = new Proxy([0, 5], {
      get(target, key) {
        if (key === '1') return reads++ === 0 ? 5 : 2.5; // valid first, non-integer i32 after
        return Reflect.get(target, key);
      },
    });
    const id = e.submit(ECHO, sly as never);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(reads).toBe(1);
    const got: number[] = [];
    e.poll((r) => got.push(...r.values.subarray(0, 2)));
    expect(got).toEqual([0, 5]);
  });

  it("a kind's arenaBytes that writes over its parameters or submits again changes no job", async () => {
    const e = await engine(2);
    const MEDDLES = e.kindId('test.arena-bytes-meddles');
    const ECHO = e.kindId('test.echo');
    const inner: number[] = [];
    const hook = globalThis as { onArenaBytes?: () => void };
    // From inside the callback: every way to submit is refused bad-params.
    hook.onArenaBytes = () => {
      inner.push(
        e.submit(ECHO, [1, 2]),
        e.submit(ECHO, [1, 2], 0, { deadlineFrames: 5 }),
        e.submit(MEDDLES, [9]),
        e.submitMany(ECHO, Float64Array.of(1, 2), 1),
        e.parallelFor(e.kindId('test.range'), [1, 8, -1, 0], 8),
        e.combine([]),
      );
    };
    try {
      const before = e.stats();
      const ids = [e.submit(MEDDLES, [7]), e.submit(MEDDLES, [8], 0, { deadlineFrames: 9 })];
      const many = new Int32Array(2);
      expect(e.submitMany(MEDDLES, Float64Array.of(3, 4), 2, many)).toBe(2);
      ids.push(...many);
      expect(Math.min(...ids)).toBeGreaterThanOrEqual(0);
      expect(inner).toEqual(Array.from({ length: 4 * 6 }, () => Rejection.BadParams));
      const got = new Map<number, number>();
      await pollUntil(e, (r) => {
        expect(r.status).toBe(Outcome.Done);
        got.set(r.jobId, r.values[0]);
      }, () => got.size === 4);
      // Each job ran with the parameters it was submitted with, not the callback's 1e9.
      expect(ids.map((id) => got.get(id))).toEqual([7, 8, 3, 4]);
      const after = e.stats();
      expect(after.rejected - before.rejected).toBe(inner.length);
      await pollUntil(e, () => {}, () => e.stats().arenaBytesUsed === 0);
      expect(accountingHolds(e)).toBe(true);
    } finally {
      hook.onArenaBytes = undefined;
    }
  });

  it('poll, beginFrame, maxQueueMs and the trace export answer hostile values with a typed error, and change nothing', async () => {
    const e = await startEngine({ workers: 1, trace: true });
    engines.push(e);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const valueOfThrows = {
      valueOf(): number {
        throw new Error('valueOf');
      },
    };
    const noop = (): void => {};
    e.beginFrame(7);
    const queueMs = e.maxQueueMs;
    for (const bad of [10n, Symbol('s'), valueOfThrows, revoked.proxy, '3', null]) {
      expect(codeOf(() => e.poll(noop, bad as never))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => e.beginFrame(bad as never))).toBe('INVALID_ARGUMENT');
      expect(
        codeOf(() => {
          e.maxQueueMs = bad as never;
        }),
      ).toBe('INVALID_OPTION');
      expect(codeOf(() => e.traceEvents({ seconds: bad as never }))).toBe('INVALID_ARGUMENT');
    }
    // A frame must be a whole number that fits the frame words.
    for (const bad of [Number.NaN, 1.5, 2 ** 31, -Infinity]) expect(codeOf(() => e.beginFrame(bad))).toBe('INVALID_ARGUMENT');
    for (const bad of [revoked.proxy, throwingGetter('seconds'), 5]) {
      expect(codeOf(() => e.traceEvents(bad as never))).toBe('INVALID_ARGUMENT');
      expect(codeOf(() => e.exportTrace(bad as never))).toBe('INVALID_ARGUMENT');
    }
    expect(e.frame).toBe(7);
    expect(e.maxQueueMs).toBe(queueMs);
    // The export options are read once: a getter asked twice would see a bad value.
    let reads = 0;
    const once = Object.defineProperty({}, 'seconds', {
      get() {
        reads++;
        return reads === 1 ? 5 : -1;
      },
    });
    expect(e.traceEvents(once as never).length).toBeGreaterThan(0);
    expect(reads).toBe(1);
  });

  it('kindId, arenaAlloc and arenaFree answer hostile values without an untyped throw', async () => {
    const e = await engine(0);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const bad of [10n, Symbol('s'), null, undefined, revoked.proxy, throwingGetter('toString'), '42', -8, 2.5e9]) {
      expect(codeOf(() => e.kindId(bad as never))).toBe('UNKNOWN_KIND');
      expect(e.arenaAlloc(bad as never)).toBe(-1);
      expect(e.arenaFree(bad as never)).toBe(false);
    }
    // A byte count that is not whole is refused, as the doc says, not rounded.
    expect(e.arenaAlloc(1.5)).toBe(-1);
    expect(e.stats().arenaBytesUsed).toBe(0);
  });

  it('killWorker answers any value that is not a worker index with INVALID_OPTION, and combine refuses a missing list', async () => {
    const e = await engine(2);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); } });
    for (const bad of [10n, Symbol('s'), null, undefined, revoked.proxy, trap, throwingGetter('toString'), '1', -1, 1.5, 2, NaN]) {
      expect(codeOf(() => e.killWorker(bad as never))).toBe('INVALID_OPTION');
    }
    expect(e.stats().respawns).toBe(0);
    const before = e.stats();
    // combine() with no list would be a barrier on nothing, done at once.
    expect(e.combine(undefined as never)).toBe(Rejection.BadParams);
    expect(e.combine(null as never)).toBe(Rejection.BadParams);
    const after = e.stats();
    expect(after.rejected - before.rejected).toBe(2);
    expect(after.submitted - before.submitted).toBe(2);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('onEvent refuses anything but a function or null with INVALID_ARGUMENT and keeps its listener', async () => {
    const e = await engine(0);
    const listener = (): void => {};
    e.onEvent = listener;
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const bad of [1n, Symbol('s'), 'f', 0, {}, revoked.proxy, new Proxy({}, { get: () => { throw new Error('trap'); } })]) {
      expect(codeOf(() => { e.onEvent = bad as never; })).toBe('INVALID_ARGUMENT');
      expect(e.onEvent).toBe(listener);
    }
    e.onEvent = undefined as never;
    expect(e.onEvent).toBe(null);
  });
});

describe('arena ownership', () => {
  it('a slice has one owner: no free while held, no second job, a refused submit leaves it alone', async () => {
    const e = await engine(0);
    const SUM = e.kindId('test.sum-input');
    const off = e.arenaAlloc(16);
    e.arenaI32.set([1, 2, 3, 4], off >> 2);
    const id = e.submit(SUM, [4], 0, { arenaOffset: off, arenaBytes: 16 });
    expect(id).toBeGreaterThanOrEqual(0);
    expect(e.arenaFree(off)).toBe(false);
    expect(e.submit(SUM, [4], 0, { arenaOffset: off, arenaBytes: 16 })).toBe(Rejection.BadParams);
    // A submit refused for another reason must not free the slice the first job holds.
    expect(e.submit(SUM, [-1], 0, { arenaOffset: off, arenaBytes: 16 })).toBe(Rejection.BadParams);
    expect(e.submit(SUM, [4], 0, { arenaOffset: off, arenaBytes: -8 })).toBe(Rejection.BadParams);
    const other = e.arenaAlloc(16);
    expect(other).not.toBe(off);
    e.arenaI32.set([9, 9, 9, 9], other >> 2);
    const sums: number[] = [];
    e.poll((r) => sums.push(r.values[0]));
    expect(sums).toEqual([10]);
    expect(e.arenaFree(other)).toBe(true);
    expect(e.stats().arenaBytesUsed).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });
});

describe('arena guards (a debug mode)', () => {
  it('a handler that writes past its slice fails arena-overrun; one that stays inside is done', async () => {
    for (const workers of [2, 0]) {
      const e = await startEngine({ workers, arenaGuards: true });
      engines.push(e);
      const OVERRUN = e.kindId('test.overrun');
      const ids = [e.submit(OVERRUN, [2]), e.submit(OVERRUN, [3]), e.submit(OVERRUN, [1])];
      const ledger = new Ledger();
      await pollUntil(e, ledger.record, () => ledger.seen.size === 3);
      expect(ids.map((id) => ledger.reasons.get(id) ?? 'done')).toEqual(['done', 'arena-overrun', 'done']);
      expect(e.stats().arenaBytesUsed).toBe(0);
      expect(accountingHolds(e)).toBe(true);
    }
    await expect(startEngine({ workers: 0, arenaGuards: 'yes' as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});

describe('odd throwables from handlers', () => {
  for (const workers of [2, 0]) {
    it(`fail the job with reason threw and keep the worker (workers: ${workers})`, async () => {
      const e = await engine(workers);
      const ODD = e.kindId('test.odd-throw');
      const ids = Array.from({ length: 7 }, (_, what) => e.submit(ODD, [what]));
      const ledger = new Ledger();
      await pollUntil(e, ledger.record, () => ledger.seen.size === ids.length);
      expect(ledger.exactlyOnce(ids)).toBe(true);
      for (const id of ids) {
        expect(ledger.status.get(id)).toBe(Outcome.Failed);
        expect(ledger.reasons.get(id)).toBe('threw');
      }
      expect(e.stats().respawns).toBe(0);
      expect(accountingHolds(e)).toBe(true);
    });
  }

  it('run inline by runInline, they fail with reason threw and nothing escapes', async () => {
    const e = await engine(2);
    const BUSY = e.kindId('test.busy');
    const ODD = e.kindId('test.odd-throw');
    // Both workers held: every job below is still queued when runInline takes it.
    for (let i = 0; i < 2; i++) e.submit(BUSY, [2000]);
    const ledger = new Ledger();
    for (let what = 0; what < 7; what++) {
      const id = e.submit(ODD, [what]);
      e.runInline(id, ledger.record);
      expect(ledger.reasons.get(id)).toBe('threw');
    }
    await pollUntil(e, ledger.record, () => e.inFlight === 0);
    expect([...ledger.seen.values()].every((n) => n === 1)).toBe(true);
    expect(accountingHolds(e)).toBe(true);
  });
});

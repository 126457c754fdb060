/**
 * Batches on real worker threads: input order whatever order jobs finish in, every task
 * exactly once, the in-flight bound checked from inside the workers, seeds per task,
 * abort, workers killed mid-batch, retried rejections, a batch sharing an engine with a
 * game loop, and every bad option's error code. Run times are seeded random (the seed is
 * in each test's name and failure message; set TEST_SEED to replay one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { Batch, runBatch, taskSeed, type BatchOptions, type BatchProgress, type BatchStatus } from '../engine/batch.js';
import type { EngineCore } from '../engine/core.js';
import type { EngineError } from '../engine/errors.js';
import { Outcome } from '../engine/outcome.js';
import { leastOfProbe } from './fixtures/alloc.js';
import {
  PROBE_ISSUED, PROBE_MAX_OUTSTANDING, PROBE_MAX_RUNNING, PROBE_RUNNING, PROBE_RUNS, PROBE_WORDS, probeValue,
} from './fixtures/batch-kinds.js';
import { accountingHolds, fixtureKinds, fixtureModule, rng, seedFromEnv, startEngine } from './fixtures/engine.js';

const SEED = seedFromEnv();
const batchKinds = fixtureModule('batch-kinds');

let engine: EngineCore | null = null;
afterEach(async () => {
  await engine?.shutdown({ timeoutMs: 1000 });
  engine = null;
});

interface Probe {
  sab: SharedArrayBuffer;
  words: Int32Array;
}
const newProbe = (): Probe => {
  const sab = new SharedArrayBuffer(4 * PROBE_WORDS);
  return { sab, words: new Int32Array(sab) };
};

async function start(workers: number, probe: Probe, extra: Parameters<typeof startEngine>[0] = {}): Promise<EngineCore> {
  engine = await startEngine({ workers, kindModules: [fixtureKinds, batchKinds], shared: { batchProbe: probe.sab }, ...extra });
  return engine;
}

/** Seeded run times in ms, [0, maxMs): the order workers finish in is scrambled. */
function runTimes(count: number, seed: number, maxMs: number): Float64Array {
  const r = rng(seed);
  const t = new Float64Array(count);
  for (let i = 0; i < count; i++) t[i] = r() < 0.2 ? r() * maxMs : r() * maxMs * 0.2;
  return t;
}

interface Seen {
  order: number[];
  status: BatchStatus[];
  reason: (string | null)[];
  values: number[][];
  attempts: number[];
}
const newSeen = (): Seen => ({ order: [], status: [], reason: [], values: [], attempts: [] });

/** A probe batch: task i spins times[i] ms and returns [i, probeValue(seed_i)]. */
function probeBatch(probe: Probe, times: Float64Array, seen: Seen, more: Partial<BatchOptions> = {}): BatchOptions {
  const issued = new Uint8Array(times.length);
  return {
    kind: 'test.batch-probe',
    count: times.length,
    seed: SEED,
    params: (i, seed, out) => {
      // Counted once per task (a retried submit builds the params again).
      if (issued[i] === 0) {
        issued[i] = 1;
        Atomics.add(probe.words, PROBE_ISSUED, 1);
      }
      out[0] = i;
      out[1] = seed;
      out[2] = times[i];
    },
    onResult: (i, r) => {
      seen.order.push(i);
      seen.status.push(r.status);
      seen.reason.push(r.reason);
      seen.values.push(Array.from(r.values));
      seen.attempts.push(r.attempts);
    },
    ...more,
  };
}

const expectInOrderOnce = (seen: Seen, count: number): void => {
  expect(seen.order, `seed ${SEED}`).toEqual(Array.from({ length: count }, (_, i) => i));
};

const expectValues = (seen: Seen, batchSeed = SEED): void => {
  for (let k = 0; k < seen.order.length; k++) {
    if (seen.status[k] !== 'done') continue;
    const i = seen.order[k];
    expect(seen.values[k], `task ${i}, seed ${SEED}`).toEqual([i, probeValue(taskSeed(batchSeed, i))]);
  }
};

describe('taskSeed', () => {
  it('is a fixed uint32 function of the batch seed and the index', () => {
    // Golden values: a change here changes every sweep's results.
    expect([taskSeed(0, 0), taskSeed(0, 1), taskSeed(1, 0), taskSeed(-1, 7), taskSeed(12345, 2 ** 33 + 5)]).toEqual([1056902391, 3950358201, 754296465, 2609541007, 2049600951]);
    const seen = new Set<number>();
    for (let s = 0; s < 8; s++) {
      for (let i = 0; i < 1000; i++) {
        const v = taskSeed(s, i);
        expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
        seen.add(v);
      }
    }
    expect(seen.size).toBe(8000);
  });
});

describe(`batches on 2 workers (seed ${SEED}; set TEST_SEED to replay)`, () => {
  it('delivers in input order, every task once, with the in-flight bound held inside the workers', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const count = 300;
    const seen = newSeen();
    const progress: BatchProgress[] = [];
    const report = await runBatch(e, probeBatch(probe, runTimes(count, SEED, 4), seen, {
      maxInFlight: 3,
      progressIntervalMs: 0,
      onProgress: (p) => progress.push({ ...p }),
    }));
    expectInOrderOnce(seen, count);
    expect(seen.status.every((s) => s === 'done')).toBe(true);
    expectValues(seen);
    expect(report).toMatchObject({ total: count, done: count, failed: 0, cancelled: 0, skipped: 0, aborted: false, maxInFlight: 3, retriedSubmits: 0 });
    // From inside the workers: never more than 3 of the batch's jobs outstanding, 2 running.
    expect(probe.words[PROBE_RUNS]).toBe(count);
    expect(probe.words[PROBE_MAX_OUTSTANDING]).toBeLessThanOrEqual(3);
    expect(probe.words[PROBE_MAX_RUNNING]).toBeLessThanOrEqual(2);
    expect(probe.words[PROBE_RUNNING]).toBe(0);
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({ total: count, done: count, completed: count, inFlight: 0, etaS: 0 });
    for (let k = 1; k < progress.length; k++) expect(progress[k].completed).toBeGreaterThanOrEqual(progress[k - 1].completed);
    expect(accountingHolds(e)).toBe(true);
  });

  it('maxInFlight 1 on 2 workers: never two jobs running at once', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    await runBatch(e, probeBatch(probe, runTimes(40, SEED + 1, 2), seen, { maxInFlight: 1 }));
    expectInOrderOnce(seen, 40);
    expect(probe.words[PROBE_MAX_RUNNING]).toBe(1);
    expect(probe.words[PROBE_MAX_OUTSTANDING]).toBe(1);
  });

  it('the default bound is workers x 2', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(60, SEED + 2, 2), seen));
    expect(report.maxInFlight).toBe(4);
    expect(probe.words[PROBE_MAX_OUTSTANDING]).toBeLessThanOrEqual(4);
    expectInOrderOnce(seen, 60);
  });

  it('unordered: every task once, the same values', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(200, SEED + 3, 3), seen, { ordered: false, reorderWindow: 8, maxInFlight: 4 }));
    expect([...seen.order].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(report.done).toBe(200);
    expectValues(seen);
  });

  it('a task gives the same values with 0 and 2 workers, and a different batch seed gives others', async () => {
    const values: number[][][] = [];
    for (const workers of [0, 2]) {
      const probe = newProbe();
      const e = await start(workers, probe);
      const seen = newSeen();
      await runBatch(e, probeBatch(probe, runTimes(50, SEED + 4, 1), seen));
      expectInOrderOnce(seen, 50);
      values.push(seen.values);
      await e.shutdown({ timeoutMs: 1000 });
      engine = null;
    }
    expect(values[1]).toEqual(values[0]);
    const other = newSeen();
    const probe = newProbe();
    const e = await start(0, probe);
    await runBatch(e, probeBatch(probe, runTimes(50, SEED + 4, 0), other, { seed: SEED + 1 }));
    expect(other.values[0]).not.toEqual(values[0][0]);
    expectValues(other, SEED + 1);
  });

  it('abort: queued jobs cancelled, running ones finish, every task one outcome, the promise settles once', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const count = 400;
    const seen = newSeen();
    const ac = new AbortController();
    const base = e.stats();
    let submittedAtAbort = -1;
    const report = await runBatch(e, probeBatch(probe, runTimes(count, SEED + 5, 3), seen, {
      signal: ac.signal,
      maxInFlight: 6,
      onResult: (i, r) => {
        seen.order.push(i);
        seen.status.push(r.status);
        seen.reason.push(r.reason);
        seen.values.push(Array.from(r.values));
        seen.attempts.push(r.attempts);
        if (i === 50) {
          ac.abort();
          submittedAtAbort = e.stats().submitted;
        }
      },
    }));
    expectInOrderOnce(seen, count);
    expect(report.aborted).toBe(true);
    // Nothing was submitted after the abort (not even to fill the room its delivery freed).
    expect(e.stats().submitted).toBe(submittedAtAbort);
    expect(report.done + report.failed + report.cancelled).toBe(count);
    // Nothing past the window (already finished or running at the abort) ran.
    expect(report.cancelled).toBeGreaterThanOrEqual(count - 51 - report.reorderWindow);
    for (let i = 51 + report.reorderWindow; i < count; i++) expect(seen.status[i]).toBe('cancelled');
    // Done up to the abort; after it, jobs that had finished or were running are done,
    // the rest cancelled (aborted).
    for (let i = 0; i <= 50; i++) expect(seen.status[i]).toBe('done');
    for (let i = 0; i < count; i++) {
      if (seen.status[i] === 'cancelled') {
        expect(seen.reason[i]).toBe('aborted');
        expect(seen.values[i]).toEqual([0, 0]);
      } else {
        expect(seen.status[i]).toBe('done');
      }
    }
    expectValues(seen);
    expect(e.inFlight).toBe(0);
    // Jobs that ran are the done ones; the engine's books agree with the batch's.
    expect(probe.words[PROBE_RUNS]).toBe(report.done);
    const s = e.stats();
    expect(s.completed - base.completed).toBe(report.done);
    expect(s.cancelled - base.cancelled).toBeLessThanOrEqual(report.cancelled);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a signal aborted before the start: every task cancelled, nothing runs', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(100, SEED, 1), seen, { signal: AbortSignal.abort() }));
    expectInOrderOnce(seen, 100);
    expect(report).toMatchObject({ aborted: true, cancelled: 100, done: 0 });
    expect(probe.words[PROBE_RUNS]).toBe(0);
  });

  it('workers killed mid-batch: lost jobs run again, every task done once, in order', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const count = 240;
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(count, SEED + 6, 4), seen, {
      maxAttempts: 4,
      onResult: (i, r) => {
        seen.order.push(i);
        seen.status.push(r.status);
        seen.reason.push(r.reason);
        seen.values.push(Array.from(r.values));
        seen.attempts.push(r.attempts);
        if (i === 40) e.killWorker(0);
        if (i === 140) e.killWorker(1);
      },
    }));
    expectInOrderOnce(seen, count);
    expect(seen.status.every((s) => s === 'done'), `seed ${SEED}`).toBe(true);
    expectValues(seen);
    expect(report.done).toBe(count);
    // A retried task ran once per attempt; the others once.
    expect(seen.attempts.reduce((a, b) => a + b, 0)).toBe(count + report.retriedRuns);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('a worker killed with maxAttempts 1: the lost job fails worker-lost, the others are done, all once', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const count = 120;
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(count, SEED + 7, 4), seen, {
      maxAttempts: 1,
      onResult: (i, r) => {
        seen.order.push(i);
        seen.status.push(r.status);
        seen.reason.push(r.reason);
        seen.values.push(Array.from(r.values));
        seen.attempts.push(r.attempts);
        if (i === 30) e.killWorker(1);
      },
    }));
    expectInOrderOnce(seen, count);
    expect(report.retriedRuns).toBe(0);
    expect(report.done + report.failed).toBe(count);
    for (let k = 0; k < count; k++) {
      if (seen.status[k] === 'failed') expect(seen.reason[k]).toBe('worker-lost');
      else expect(seen.status[k]).toBe('done');
    }
    expectValues(seen);
    expect(accountingHolds(e)).toBe(true);
  });

  it('ring-full at submit is retried later, not lost', async () => {
    const probe = newProbe();
    const e = await start(2, probe, { jobCapacity: 4 });
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(100, SEED + 8, 1), seen, { maxInFlight: 16 }));
    expectInOrderOnce(seen, 100);
    expect(report.done).toBe(100);
    expect(report.retriedSubmits).toBeGreaterThan(0);
    expect(e.stats().rejectedByReason['ring-full']).toBeGreaterThan(0);
  });

  it('params refused at submit fail that task (bad-params); a throwing handler fails with its stack', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(30, SEED, 1), seen, {
      params: (i, seed, out) => {
        out[0] = i;
        out[1] = seed;
        out[2] = i % 7 === 3 ? NaN : 0.1;
      },
    }));
    expectInOrderOnce(seen, 30);
    for (let i = 0; i < 30; i++) {
      expect(seen.status[i]).toBe(i % 7 === 3 ? 'failed' : 'done');
      expect(seen.reason[i]).toBe(i % 7 === 3 ? 'bad-params' : null);
    }
    expect(report.failed).toBe(4);

    const errors: (string | null)[] = [];
    const thrown = await runBatch(e, {
      kind: 'test.throw',
      count: 5,
      params: (i, _s, out) => {
        out[0] = i;
      },
      onResult: (_i, r) => {
        expect(r.status).toBe('failed');
        expect(r.reason).toBe('threw');
        errors.push(r.error?.message ?? null);
      },
    });
    expect(thrown.failed).toBe(5);
    expect(errors).toEqual([0, 1, 2, 3, 4].map((i) => `RangeError: deliberate failure ${i}`));
  });

  it('skip leaves tasks out: not run, not delivered', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(90, SEED, 1), seen, { skip: (i) => i < 40 || i % 3 === 0, reorderWindow: 8, maxInFlight: 2 }));
    const want = Array.from({ length: 90 }, (_, i) => i).filter((i) => !(i < 40 || i % 3 === 0));
    expect(seen.order).toEqual(want);
    expect(report).toMatchObject({ skipped: 90 - want.length, done: want.length });
    expect(probe.words[PROBE_RUNS]).toBe(want.length);
    expectValues(seen);
  });

  it('shares an engine with a game loop: handle() routes, both sides get each of their results once', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const ECHO = e.kindId('test.echo');
    const seen = newSeen();
    const batch = new Batch(e, probeBatch(probe, runTimes(150, SEED + 9, 2), seen, { lane: 'background' }));
    const mine = new Map<number, number>();
    let frame = 0;
    const params = new Float64Array(2);
    const apply = (r: ResultView): void => {
      expect(r.kind).toBe(ECHO);
      expect(r.status).toBe(Outcome.Done);
      expect(mine.has(r.jobId)).toBe(true);
      expect(mine.get(r.jobId)).toBe(r.values[0]);
      mine.delete(r.jobId);
    };
    const route = (r: ResultView): void => {
      if (!batch.handle(r)) apply(r);
    };
    let submitted = 0;
    while (!batch.isSettled || mine.size > 0) {
      e.beginFrame(frame++);
      e.poll(route);
      batch.pump();
      if (frame < 200) {
        for (let k = 0; k < 5; k++) {
          params[0] = submitted;
          params[1] = k;
          const id = e.submit(ECHO, params, k);
          if (id >= 0) mine.set(id, submitted++);
        }
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const report = await batch.done;
    expectInOrderOnce(seen, 150);
    expectValues(seen);
    expect(report.done).toBe(150);
    expect(report.otherResults).toBe(0);
    expect(submitted).toBeGreaterThan(0);
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('drive() on a shared engine hands the others to onOtherResult', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const ECHO = e.kindId('test.echo');
    const ids = new Set<number>();
    for (let i = 0; i < 20; i++) ids.add(e.submit(ECHO, [i, i]));
    const others: number[] = [];
    const seen = newSeen();
    const report = await runBatch(e, probeBatch(probe, runTimes(20, SEED, 1), seen, { onOtherResult: (r) => others.push(r.jobId) }));
    expect(report.otherResults).toBe(20);
    expect(new Set(others)).toEqual(ids);
    expectInOrderOnce(seen, 20);
  });

  it('a callback that throws stops the batch: no further callbacks, running jobs end, done rejects with that error', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const boom = new Error('caller bug');
    let after = 0;
    const p = runBatch(e, probeBatch(probe, runTimes(200, SEED, 2), seen, {
      onResult: (i) => {
        if (i > 10) after++;
        if (i === 10) throw boom;
        seen.order.push(i);
      },
    }));
    await expect(p).rejects.toBe(boom);
    expect(after).toBe(0);
    expect(seen.order).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(e.inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });

  it('an engine shut down mid-batch: the rest fail shutdown, the batch settles', async () => {
    const probe = newProbe();
    const e = await start(2, probe);
    const seen = newSeen();
    const p = runBatch(e, probeBatch(probe, runTimes(300, SEED, 3), seen, {
      onResult: (i, r) => {
        seen.order.push(i);
        seen.status.push(r.status);
        seen.reason.push(r.reason);
        if (i === 20) void e.shutdown({ timeoutMs: 200 });
      },
    }));
    const report = await p;
    expectInOrderOnce(seen, 300);
    expect(report.done + report.failed).toBe(300);
    for (let i = 0; i < 300; i++) if (seen.status[i] === 'failed') expect(seen.reason[i]).toBe('shutdown');
    expect(report.failed).toBeGreaterThan(200);
  });

  it('refuses bad options with typed errors', async () => {
    const probe = newProbe();
    const e = await start(1, probe);
    const ok: BatchOptions = { kind: 'test.batch-probe', count: 1, params: () => {}, onResult: () => {} };
    const code = (o: Partial<BatchOptions> | null): string => {
      try {
        new Batch(e, o === null ? (null as unknown as BatchOptions) : { ...ok, ...o });
        return 'accepted';
      } catch (err) {
        return (err as EngineError).code;
      }
    };
    expect(code({})).toBe('accepted');
    expect(code(null)).toBe('INVALID_OPTION');
    expect(code({ kind: 'no.such.kind' })).toBe('UNKNOWN_KIND');
    expect(code({ kind: 999 })).toBe('UNKNOWN_KIND');
    // A kind whose string conversion throws: the refusal's message does not convert it.
    expect(code({ kind: new Proxy({}, { get: () => { throw new Error('trap'); } }) as never })).toBe('UNKNOWN_KIND');
    expect(code({ kind: Symbol('k') as never })).toBe('UNKNOWN_KIND');
    expect(code({ count: -1 })).toBe('INVALID_OPTION');
    expect(code({ count: 1.5 })).toBe('INVALID_OPTION');
    expect(code({ count: 2 ** 31 })).toBe('INVALID_OPTION');
    expect(code({ maxInFlight: 0 })).toBe('INVALID_OPTION');
    expect(code({ maxInFlight: 8, reorderWindow: 4 })).toBe('INVALID_OPTION');
    expect(code({ maxAttempts: 0 })).toBe('INVALID_OPTION');
    expect(code({ seed: 1.5 })).toBe('INVALID_OPTION');
    expect(code({ progressIntervalMs: -1 })).toBe('INVALID_OPTION');
    expect(code({ lane: 'urgent' as never })).toBe('INVALID_OPTION');
    const trap = new Proxy({}, { get: () => { throw new Error('trap'); } });
    expect(code({ lane: trap as never })).toBe('INVALID_OPTION');
    expect(code({ maxInFlight: trap as never })).toBe('INVALID_OPTION');
    expect(code({ maxInFlight: 8, reorderWindow: trap as never })).toBe('INVALID_OPTION');
    expect(code({ params: 3 as never })).toBe('INVALID_OPTION');
    expect(code({ onResult: undefined as never })).toBe('INVALID_OPTION');
    expect(code({ skip: 'x' as never })).toBe('INVALID_OPTION');
    expect(code({ signal: {} as never })).toBe('INVALID_OPTION');
    const evil = new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    expect(code({ signal: evil as never })).toBe('INVALID_OPTION');
    // A getter that throws such a Proxy: the refusal's message does not read it.
    const throwsEvil = Object.defineProperty({ ...ok }, 'count', { get: () => { throw evil; } }) as BatchOptions;
    expect(() => new Batch(e, throwsEvil)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    // An empty batch settles at once.
    const empty = await runBatch(e, { ...ok, count: 0 });
    expect(empty.total).toBe(0);
  });
});

describe('batch hot path allocation', () => {
  it('params builder, submit, handle and in-order delivery allocate nothing per task on the main thread', () => {
    // Fresh processes, compiled on the main thread, retried under load (fixtures/alloc.ts).
    const r = leastOfProbe('batch-alloc-probe.js', [], { inline: 24, workers: 8 });
    // With workers, the engine's own bound (engine-alloc.test.ts): a few bytes per job of noise.
    expect(r.workers).toBeLessThan(8);
    // Inline, the engine reads the clock per job (about 16 bytes on Node 20); the batch adds nothing to it.
    expect(r.inline).toBeLessThan(24);
  });
});

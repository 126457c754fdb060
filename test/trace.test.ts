/**
 * The job timeline: trace rings alone (wrap-around), then real engines with two workers
 * and tracing on, exported and checked as Chrome trace event JSON (trace-check.ts): the
 * fields the format requires, slices that never overlap on a worker's track, flows with
 * both ends, every job that ran once as a slice, a name for every track.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { computeLayout, traceRingOffset } from '../engine/layout.js';
import { Outcome } from '../engine/outcome.js';
import { TI_ID, TI_TYPE, TRACE_PUBLISH_EVERY, TRACE_RECORD_I32, TraceRingWriter, readTraceRing } from '../engine/trace-ring.js';
import { main as gameMain } from '../game/cli.js';
import { sleep } from '../game/time.js';
import { runBurst } from '../stress/modes/burst.js';
import { accountingHolds, fixtureKinds, fixtureModule, pollUntil, rng, seedFromEnv, startEngine } from './fixtures/engine.js';
import { checkTrace } from './fixtures/trace-check.js';

const expectCode = (f: () => unknown, code: string): void => {
  let thrown: unknown = null;
  try {
    f();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(EngineError);
  expect((thrown as EngineError).code).toBe(code);
};

describe('trace ring', () => {
  it('keeps the newest events, oldest first, across many wrap-arounds', () => {
    const l = computeLayout({ workerCount: 1, ringCapacity: 2, jobSlots: 2, arenaBytes: 0, heartbeatMs: 20, traceEvents: 64 });
    const sab = new SharedArrayBuffer(l.totalBytes);
    expect(readTraceRing(sab, traceRingOffset(l, 0), 64).count).toBe(0);
    for (let total = 1; total <= 1000; total += 37) {
      const w = new TraceRingWriter(sab, traceRingOffset(l, 0), 64);
      while ((Atomics.load(new Int32Array(sab, traceRingOffset(l, 0), 1), 0) | 0) < total) {
        const r = w.next();
        w.i32[r + TI_TYPE] = 1;
        w.i32[r + TI_ID] = Atomics.load(new Int32Array(sab, traceRingOffset(l, 0), 1), 0);
        w.commit();
        w.publishCount();
      }
      const got = readTraceRing(sab, traceRingOffset(l, 0), 64);
      // The slots a writer may be rewriting past its published count (and the one it
      // fills next) are not read.
      expect(got.count).toBe(Math.min(64 - TRACE_PUBLISH_EVERY - 1, total));
      for (let k = 0; k < got.count; k++) expect(got.i32[k * TRACE_RECORD_I32 + TI_ID]).toBe(total - got.count + k);
    }
  });

  it('refuses trace rings that would not fit the buffer with INVALID_OPTION', () => {
    let code = '';
    try {
      computeLayout({ workerCount: 64, ringCapacity: 8, jobSlots: 16, arenaBytes: 1024, heartbeatMs: 20, traceEvents: 1 << 20 });
    } catch (err) {
      code = (err as EngineError).code;
    }
    expect(code).toBe('INVALID_OPTION');
  });

  it('adds no bytes to the buffer when tracing is off', () => {
    const spec = { workerCount: 2, ringCapacity: 8, jobSlots: 16, arenaBytes: 1024, heartbeatMs: 20 };
    const off = computeLayout(spec);
    const on = computeLayout({ ...spec, traceEvents: 256 });
    expect(off.totalBytes).toBe(off.arenaOffset + 1024);
    // Three rings (main, two workers) of 256 x 48 B, each after a 64-byte control block.
    expect(on.totalBytes - on.traceOffset).toBe(3 * (64 + 256 * 48));
  });
});

describe('trace options and errors', () => {
  it('refuses bad trace options with INVALID_OPTION', async () => {
    for (const trace of [{ events: 100 }, { events: 16 }, { events: 1 << 21 }, 'yes', { seconds: 2 }, [1]]) {
      await expect(EngineCore.start({ workers: 0, trace: trace as never })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
  });

  it('refuses an export with TRACE_OFF when tracing is off, INVALID_ARGUMENT for bad export options', async () => {
    const off = await EngineCore.start({ workers: 0 });
    try {
      expect(off.tracing).toBe(false);
      expectCode(() => off.exportTrace(), 'TRACE_OFF');
      expectCode(() => off.traceEvents(), 'TRACE_OFF');
    } finally {
      await off.shutdown();
    }
    const on = await EngineCore.start({ workers: 0, trace: { events: 256 } });
    try {
      expect(on.tracing).toBe(true);
      expectCode(() => on.exportTrace({ seconds: -1 }), 'INVALID_ARGUMENT');
      expectCode(() => on.exportTrace({ seconds: Number.NaN }), 'INVALID_ARGUMENT');
      expectCode(() => on.exportTrace(null as never), 'INVALID_ARGUMENT');
      // An engine that did nothing exports a valid, nearly empty file.
      const c = checkTrace(on.exportTrace());
      expect(c.problems).toEqual([]);
      expect(c.threadNames.get(1)).toBe('main thread');
    } finally {
      await on.shutdown();
    }
  });
});

/**
 * A frame loop on a real engine: per frame, beginFrame, poll, then `perFrame` echo jobs
 * (some with a deadline that passes, some cancelled, some run inline), all accounted.
 */
async function runFrames(engine: EngineCore, seed: number, frames: number, perFrame: number) {
  const random = rng(seed);
  const ECHO = engine.kindId('test.echo');
  const BUSY = engine.kindId('test.busy');
  const p = new Float64Array(2);
  const busy = new Float64Array(1);
  const delivered = new Map<number, { status: number; worker: number }>();
  const submitted: number[] = [];
  const cancelled = new Set<number>();
  const inline = new Set<number>();
  const deadline = { deadlineFrames: 0 };
  const onResult = (r: ResultView): void => {
    if (delivered.has(r.jobId)) throw new Error(`job ${r.jobId} delivered twice`);
    delivered.set(r.jobId, { status: r.status, worker: r.worker });
  };
  for (let f = 0; f < frames; f++) {
    engine.beginFrame(f);
    engine.poll(onResult);
    // A long job now and then, so queued jobs behind it meet their deadline frame.
    if (f % 5 === 0) {
      busy[0] = 3;
      const id = engine.submit(BUSY, busy, -1);
      if (id >= 0) submitted.push(id);
    }
    for (let i = 0; i < perFrame; i++) {
      p[0] = random();
      p[1] = i;
      const id = engine.submit(ECHO, p, i, random() < 0.2 ? deadline : undefined);
      if (id < 0) continue;
      submitted.push(id);
      const roll = random();
      if (roll < 0.03 && engine.cancel(id)) cancelled.add(id);
      else if (roll < 0.05 && engine.runInline(id, onResult)) inline.add(id);
    }
    await sleep(1);
  }
  for (let i = 0; i < 5000 && engine.inFlight > 0; i++) {
    engine.poll(onResult);
    await sleep(1);
  }
  return { delivered, submitted, cancelled, inline };
}

describe('trace export from a real engine', () => {
  it('two workers: every job that ran is one slice on its thread, flows join submit, run and delivery', async () => {
    const seed = seedFromEnv();
    const engine = await startEngine({ workers: 2, trace: { events: 1 << 15 } });
    try {
      const books = await runFrames(engine, seed, 60, 60);
      expect(engine.inFlight, `seed ${seed}`).toBe(0);
      const text = engine.exportTrace();
      const c = checkTrace(text);
      expect(c.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
      expect(c.threadNames.get(1)).toBe('main thread');
      expect(c.threadNames.get(2)).toBe('worker 0');
      expect(c.threadNames.get(3)).toBe('worker 1');
      expect(c.frames).toBe(60);
      for (const name of ['job rings', 'result rings', 'in flight', 'refused per frame']) expect(c.counters.has(name)).toBe(true);

      let ran = 0;
      for (const id of books.submitted) {
        const d = books.delivered.get(id);
        const slices = c.slicesByJob.get(id) ?? [];
        if (books.cancelled.has(id)) {
          expect(d, `seed ${seed}: cancelled job ${id} delivered`).toBeUndefined();
          expect(slices.length).toBe(0);
          continue;
        }
        expect(d, `seed ${seed}: job ${id} not delivered`).toBeDefined();
        // Every job that ran appears once as a slice, on the thread that ran it; one that
        // runInline took over may also appear where a worker had already started it.
        if (d!.status === Outcome.Expired) {
          expect(slices.length, `seed ${seed}: expired job ${id}`).toBe(0);
        } else if (books.inline.has(id)) {
          expect(slices.filter((s) => s.inline && s.tid === 1).length, `seed ${seed}: inline job ${id}`).toBe(1);
          expect(slices.filter((s) => !s.inline).length).toBeLessThanOrEqual(1);
          ran++;
        } else {
          expect(slices.length, `seed ${seed}: job ${id} has ${slices.length} slices`).toBe(1);
          expect(slices[0]!.worker).toBe(d!.worker);
          expect(slices[0]!.tid).toBe(2 + d!.worker);
          ran++;
        }
        // Its flow: submit first, delivery last.
        const flow = c.flows.get(id);
        expect(flow, `seed ${seed}: job ${id} has no flow`).toBeDefined();
        expect(flow![0]).toBe('s');
        expect(flow![flow!.length - 1]).toBe('f');
        expect(flow!.length).toBe(2 + slices.length);
      }
      // Jobs without a deadline always run: at least 75 % of what was submitted.
      expect(ran).toBeGreaterThan(2000);
      // Both workers ran jobs.
      expect(c.slicesPerTid.get(2) ?? 0).toBeGreaterThan(0);
      expect(c.slicesPerTid.get(3) ?? 0).toBeGreaterThan(0);
      // Expired jobs are marked on the worker that expired them, as instants.
      const expired = [...books.delivered.values()].filter((d) => d.status === Outcome.Expired).length;
      const instants = (JSON.parse(text) as { traceEvents: { ph: string; name: string }[] }).traceEvents.filter((e) => e.ph === 'i' && e.name.startsWith('expired ')).length;
      expect(instants).toBe(expired);

      // The last 0.2 s only: still well formed, and nothing from before it.
      const recent = checkTrace(engine.exportTrace({ seconds: 0.2 }));
      expect(recent.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
      for (const [id, list] of recent.slicesByJob) {
        expect(c.slicesByJob.has(id)).toBe(true);
        for (const s of list) expect(s.ts).toBeLessThanOrEqual(200_000);
      }
    } finally {
      await engine.shutdown();
    }
  });

  it('small rings keep the newest events and the export stays well formed after many wrap-arounds', async () => {
    const seed = seedFromEnv();
    const engine = await startEngine({ workers: 2, trace: { events: 256 } });
    try {
      const books = await runFrames(engine, seed, 40, 80);
      const c = checkTrace(engine.exportTrace());
      expect(c.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
      // A worker ring holds 256 events, so at most that many slices per worker.
      expect(c.slicesPerTid.get(2) ?? 0).toBeLessThanOrEqual(256);
      expect(c.slicesPerTid.get(3) ?? 0).toBeLessThanOrEqual(256);
      expect(c.flows.size).toBeGreaterThan(0);
      // The newest job that a worker ran is there.
      const last = [...books.delivered.entries()].reverse().find(([, d]) => d.status === Outcome.Done && d.worker >= 0);
      expect(last).toBeDefined();
      expect(c.slicesByJob.get(last![0])?.length).toBe(1);
    } finally {
      await engine.shutdown();
    }
  });

  it('a parallel-for job: one slice per worker that ran chunks, one flow from submit to delivery', async () => {
    const seed = seedFromEnv() % 1000;
    const engine = await startEngine({ workers: 2, trace: true });
    try {
      const RANGE = engine.kindId('test.range');
      const ids: number[] = [];
      const done = new Set<number>();
      for (let f = 0; f < 4; f++) {
        engine.beginFrame(f);
        const id = engine.parallelFor(RANGE, [seed, 4000, -1, 1], 4000, 50);
        expect(id).toBeGreaterThanOrEqual(0);
        ids.push(id);
      }
      for (let i = 0; i < 5000 && done.size < ids.length; i++) {
        engine.poll((r) => {
          expect(r.status).toBe(Outcome.Done);
          done.add(r.jobId);
        });
        await sleep(1);
      }
      expect(done.size).toBe(ids.length);
      const c = checkTrace(engine.exportTrace());
      expect(c.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
      for (const id of ids) {
        const shares = c.slicesByJob.get(id) ?? [];
        expect(shares.length).toBeGreaterThanOrEqual(1);
        expect(shares.length).toBeLessThanOrEqual(2);
        expect(new Set(shares.map((s) => s.tid)).size).toBe(shares.length);
        const flow = c.flows.get(id)!;
        expect(flow[0]).toBe('s');
        expect(flow[flow.length - 1]).toBe('f');
        expect(flow.length).toBe(2 + shares.length);
      }
    } finally {
      await engine.shutdown();
    }
  });

  it('a job\'s slice is in an export made as soon as its result is delivered, while its worker is busy with the next job', async () => {
    // One worker takes the three jobs in one pass; it stays inside the busy job (and so
    // has not finished its pass) when the first two results are delivered.
    const engine = await startEngine({ workers: 1, trace: true, hangTimeoutMs: 60_000 });
    try {
      const RANGE = engine.kindId('test.range');
      engine.beginFrame(0);
      const range = engine.parallelFor(RANGE, [1, 64, -1, 0], 64, 8);
      const echo = engine.submit(engine.kindId('test.echo'), [1, 2]);
      const busy = engine.submit(engine.kindId('test.busy'), [2000]);
      expect(Math.min(range, echo, busy)).toBeGreaterThanOrEqual(0);
      const delivered = new Set<number>();
      for (let i = 0; i < 20_000 && delivered.size < 2; i++) {
        engine.poll((r) => {
          expect(r.status).toBe(Outcome.Done);
          delivered.add(r.jobId);
        });
        if (delivered.size < 2) await sleep(1);
      }
      expect([...delivered].sort()).toEqual([range, echo].sort());
      const c = checkTrace(engine.exportTrace());
      expect(c.problems.slice(0, 10)).toEqual([]);
      for (const id of [range, echo]) {
        expect(c.slicesByJob.get(id)?.length, `job ${id}`).toBe(1);
        expect(c.flows.get(id), `job ${id}`).toEqual(['s', 't', 'f']);
      }
    } finally {
      await engine.shutdown();
    }
  });

  it('workers: 0 puts the jobs on an inline runner track, with the same structure', async () => {
    const seed = seedFromEnv();
    const engine = await startEngine({ workers: 0, trace: true });
    try {
      const books = await runFrames(engine, seed, 20, 40);
      const c = checkTrace(engine.exportTrace());
      expect(c.problems.slice(0, 10), `seed ${seed}`).toEqual([]);
      expect(c.threadNames.get(2)).toBe('inline runner (workers: 0)');
      for (const [id, d] of books.delivered) {
        if (d.status !== Outcome.Done) continue;
        expect(c.slicesByJob.get(id)?.length, `seed ${seed}: job ${id}`).toBe(1);
      }
    } finally {
      await engine.shutdown();
    }
  });
});

describe('trace: outcomes decided inside a poll', () => {
  it('a job cancelled by a poll callback ends its flow in that poll; the delivered ones still have theirs', async () => {
    // The latch holds job L on a worker, so B (after L) waits in the engine until the
    // callback for A cancels it: the cancel happens inside A's drain, whatever the timing.
    const latch = new SharedArrayBuffer(12);
    const words = new Int32Array(latch);
    const engine = await EngineCore.start({
      workers: 2,
      heartbeatMs: 20,
      hangTimeoutMs: 30_000,
      trace: { events: 1024 },
      kindModules: [fixtureKinds, fixtureModule('latch-kinds')],
      shared: { latch },
    });
    try {
      const ECHO = engine.kindId('test.echo');
      engine.beginFrame(0);
      // A goes first: on the worker L then holds, it would otherwise wait behind L.
      const a = engine.submit(ECHO, [3, 4]);
      const l = engine.submit(engine.kindId('test.latch'), []);
      const b = engine.submit(ECHO, [1, 2], 0, { after: [l] });
      expect(Math.min(l, b, a)).toBeGreaterThanOrEqual(0);
      const delivered = new Map<number, number>();
      let cancelledB: boolean | null = null;
      const sink = (r: ResultView): void => {
        delivered.set(r.jobId, r.status);
        if (r.jobId === a) cancelledB = engine.cancel(b);
      };
      await pollUntil(engine, sink, () => delivered.has(a));
      expect(cancelledB).toBe(true);
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      await pollUntil(engine, sink, () => delivered.has(l));
      expect(engine.inFlight).toBe(0);
      expect(delivered.has(b)).toBe(false);
      expect(accountingHolds(engine)).toBe(true);

      const c = checkTrace(engine.exportTrace());
      expect(c.problems.slice(0, 10)).toEqual([]);
      // B never ran: no slice, but a flow from its submit to the poll that cancelled it.
      expect(c.slicesByJob.get(b) ?? []).toEqual([]);
      expect(c.flows.get(b)).toEqual(['s', 'f']);
      // A and L ran once each, and their flows end at their deliveries.
      for (const id of [a, l]) {
        expect(c.slicesByJob.get(id)?.length).toBe(1);
        const flow = c.flows.get(id)!;
        expect(flow[0]).toBe('s');
        expect(flow[flow.length - 1]).toBe('f');
      }
    } finally {
      await engine.shutdown();
    }
  });
});

describe('--trace FILE', () => {
  it('npm run game and npm run stress write a well-formed timeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'framejobs-trace-'));
    try {
      const gameFile = join(dir, 'game.json');
      const log = console.log;
      console.log = () => {};
      try {
        expect(await gameMain(['--frames', '30', '--agents', '40', '--workers', '2', '--fast', '--trace', gameFile])).toBe(0);
      } finally {
        console.log = log;
      }
      const g = checkTrace(readFileSync(gameFile, 'utf8'));
      expect(g.problems.slice(0, 10)).toEqual([]);
      expect(g.frames).toBe(30);
      expect(g.slicesByJob.size).toBeGreaterThan(0);

      let exported = '';
      await runBurst({ seconds: 0.3, workers: 2, seed: 3, collectTimeoutMs: 10_000, traceTo: (engine) => (exported = engine.exportTrace()) });
      const s = checkTrace(exported);
      expect(s.problems.slice(0, 10)).toEqual([]);
      expect(s.slicesByJob.size).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

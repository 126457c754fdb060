/**
 * Shared memory is not trusted blindly.
 *
 * - A worker handed a buffer whose header does not describe the layout it speaks
 *   (wrong magic, wrong version, wrong size, too small, not shared, a worker index or a
 *   kind list the buffer does not match) refuses to start with LAYOUT_MISMATCH, and
 *   EngineCore.start reports that code.
 * - A result record that names a slot not running that generation (a stale replay of a
 *   delivered result, a torn record with the wrong generation, a record for a job still
 *   queued, a slot out of range) is counted in engine.staleRecords and never delivered;
 *   the real jobs still get exactly one outcome each.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultView, WorkerHost } from '../engine/api.js';
import type { EngineCore } from '../engine/core.js';
import { EngineCore as Core } from '../engine/core.js';
import { nodeHost } from '../engine/host-node.js';
import {
  ENGINE_STOPPING,
  H_ENGINE_STATE,
  H_MAGIC,
  H_TOTAL_BYTES,
  H_VERSION,
  HEADER_BYTES,
  LAYOUT_VERSION,
  RECORD_I32,
  RES_TAIL_I,
  RF_VALUES,
  R_ERR_SEQ,
  R_GEN,
  R_KIND,
  R_SLOT,
  R_STATUS,
  R_TAG,
  R_VALUE_COUNT,
  R_WORKER,
  STATE_BITS,
  STATE_MASK,
  S_QUEUED,
  S_RUNNING,
  WorkerBlockView,
  computeLayout,
  writeHeader,
  type Layout,
} from '../engine/layout.js';
import { Outcome } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import { loadKinds } from '../engine/registry.js';
import type { WorkerInit, WorkerMessage } from '../engine/worker-entry.js';
import { accountingHolds, copyResult, fixtureKinds, fixtureModule, pollUntil, startEngine, type Got } from './fixtures/engine.js';

const WORKER_ENTRY = builtModuleUrl(import.meta.url, '../engine/worker-entry.js');

function goodBuffer(): { sab: SharedArrayBuffer; layout: Layout } {
  const layout = computeLayout({ workerCount: 2, ringCapacity: 8, jobSlots: 16, arenaBytes: 1024, heartbeatMs: 20 });
  const sab = new SharedArrayBuffer(layout.totalBytes);
  writeHeader(sab, layout);
  return { sab, layout };
}

/** The same header in a buffer of `bytes` bytes. */
function resized(bytes: number): SharedArrayBuffer {
  const { sab } = goodBuffer();
  const out = new SharedArrayBuffer(bytes);
  new Uint8Array(out).set(new Uint8Array(sab, 0, Math.min(bytes, HEADER_BYTES)));
  return out;
}

/** Starts the real worker entry on `sab` and returns its first message (or how it exited). */
async function firstMessage(sab: unknown, patch: Partial<WorkerInit> = {}): Promise<WorkerMessage | { type: 'exit'; code: number }> {
  const builtin = await loadKinds([]);
  const init = {
    type: 'framejobs-init',
    sab,
    workerIndex: 0,
    kindModules: [],
    kindNames: builtin.list.map((k) => k.name),
    shared: {},
    config: {},
    ...patch,
  };
  const worker = new Worker(WORKER_ENTRY, { workerData: init });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', (m: WorkerMessage) => resolve(m));
      worker.once('error', reject);
      worker.once('exit', (code) => resolve({ type: 'exit', code }));
    });
  } finally {
    if (sab instanceof SharedArrayBuffer && sab.byteLength >= HEADER_BYTES) {
      // A worker that did start leaves its loop when the engine state says stopping.
      const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
      Atomics.store(h, H_ENGINE_STATE, ENGINE_STOPPING);
    }
    await worker.terminate();
  }
}

describe('a worker checks the buffer it is handed', () => {
  it('starts on a buffer with the right header (the control case)', async () => {
    const { sab } = goodBuffer();
    expect(await firstMessage(sab)).toMatchObject({ type: 'ready', workerIndex: 0 });
  });

  const cases: [string, () => unknown, Partial<WorkerInit>, RegExp][] = [
    ['wrong magic', () => {
      const { sab } = goodBuffer();
      new Int32Array(sab)[H_MAGIC] = 0x12345678;
      return sab;
    }, {}, /magic 0x12345678/],
    ['wrong layout version', () => {
      const { sab } = goodBuffer();
      new Int32Array(sab)[H_VERSION] = LAYOUT_VERSION + 1;
      return sab;
    }, {}, new RegExp(`layout version ${LAYOUT_VERSION + 1}`)],
    ['a header that claims another size', () => {
      const { sab } = goodBuffer();
      new Int32Array(sab)[H_TOTAL_BYTES] += 64;
      return sab;
    }, {}, /does not describe this buffer/],
    ['a buffer larger than its header says', () => resized(goodBuffer().layout.totalBytes + 4096), {}, /does not describe this buffer/],
    ['a buffer smaller than its header says', () => resized(goodBuffer().layout.totalBytes - 4096), {}, /does not describe this buffer/],
    ['a buffer smaller than a header', () => new SharedArrayBuffer(64), {}, /smaller than its header/],
    ['a buffer that is not shared', () => new ArrayBuffer(goodBuffer().layout.totalBytes), {}, /missing or smaller/],
    ['a worker index the buffer has no block for', () => goodBuffer().sab, { workerIndex: 2 }, /worker index 2 is outside/],
    ['a kind list that does not match the engine', () => goodBuffer().sab, { kindNames: ['noop'] }, /worker sees kinds/],
  ];
  for (const [name, make, patch, message] of cases) {
    it(`refuses ${name} with LAYOUT_MISMATCH`, async () => {
      const m = await firstMessage(make(), patch);
      expect(m).toMatchObject({ type: 'init-error', code: 'LAYOUT_MISMATCH' });
      expect((m as { message: string }).message).toMatch(message);
    });
  }

  it('EngineCore.start reports a worker that refuses its buffer as EngineError LAYOUT_MISMATCH', async () => {
    // A host that hands every worker a copy of the engine's buffer with a newer layout version.
    const forging: WorkerHost = {
      name: 'node',
      spawn: (url, init, cb, limits) => {
        const real = (init as WorkerInit).sab;
        const copy = new SharedArrayBuffer(real.byteLength);
        new Uint8Array(copy).set(new Uint8Array(real));
        new Int32Array(copy)[H_VERSION] = LAYOUT_VERSION + 1;
        return nodeHost.spawn(url, { ...(init as WorkerInit), sab: copy }, cb, limits);
      },
    };
    const start = Core.start({ workers: 2, kindModules: [fixtureKinds], host: forging });
    await expect(start).rejects.toMatchObject({ name: 'EngineError', code: 'LAYOUT_MISMATCH', message: expect.stringContaining('layout version') });
  });
});

describe('result records carry a generation', () => {
  let engine: EngineCore | null = null;
  afterEach(async () => {
    await engine?.shutdown({ timeoutMs: 500 });
    engine = null;
  });

  it('a stale, torn, not-started, foreign or out-of-range record is counted and never applied', async () => {
    // Worker 1 is killed and, with no respawns allowed, stays dead: nobody else writes
    // its result ring, so records can be forged there without racing a producer.
    const latch = new SharedArrayBuffer(12);
    const e = (engine = await startEngine({ workers: 2, maxRespawnsPerMinute: 0, jobCapacity: 64, hangTimeoutMs: 60_000, kindModules: [fixtureKinds, fixtureModule('latch-kinds')], shared: { latch } }));
    const ECHO = e.kindId('test.echo');
    const BUSY = e.kindId('test.latch');
    const got = new Map<number, Got>();
    let twice = 0;
    const sink = (r: ResultView): void => {
      if (got.has(r.jobId)) twice++;
      got.set(r.jobId, copyResult(r));
    };
    const early = e.submit(ECHO, [1.5, 2], 3);
    await pollUntil(e, sink, () => got.has(early));
    e.killWorker(1);
    await pollUntil(e, sink, () => e.health()[1].state === 'dead');

    // Worker 0 is now the only one: a job held by the latch keeps it busy, so the echo
    // behind it stays queued until the test opens the latch.
    const busy = e.submit(BUSY, []);
    const queued = e.submit(ECHO, [7, 8], 9);
    await pollUntil(e, sink, () => e.health()[0].currentJob === busy);

    const l = e.layout;
    const slots = new Int32Array(e.buffer, l.slotTable, l.jobSlots);
    const slotOf = (id: number): number => id & (l.jobSlots - 1);
    const genOf = (id: number): number => slots[slotOf(id)] >>> STATE_BITS;
    expect(slots[slotOf(busy)] & STATE_MASK).toBe(S_RUNNING);
    expect(slots[slotOf(queued)] & STATE_MASK).toBe(S_QUEUED);

    const v = new WorkerBlockView(e.buffer, l, 1);
    let tail = Atomics.load(v.i32, RES_TAIL_I);
    const forge = (slot: number, gen: number, kind: number): void => {
      const r = (tail & v.mask) * RECORD_I32;
      v.resI32[r + R_SLOT] = slot;
      v.resI32[r + R_GEN] = gen;
      v.resI32[r + R_KIND] = kind;
      v.resI32[r + R_STATUS] = Outcome.Done;
      v.resI32[r + R_TAG] = 0;
      v.resI32[r + R_ERR_SEQ] = -1;
      v.resI32[r + R_VALUE_COUNT] = 4;
      v.resI32[r + R_WORKER] = 1;
      for (let i = 0; i < 4; i++) v.resF64[(r >> 1) + RF_VALUES + i] = 666;
      tail = (tail + 1) | 0;
    };
    forge(slotOf(early), genOf(early), ECHO); // a replay of a result already delivered
    forge(slotOf(busy), (genOf(busy) + 1) & 0x0fffffff, BUSY); // torn: right slot, wrong generation
    forge(slotOf(busy), (genOf(busy) - 1) & 0x0fffffff, BUSY); // stale: the slot's previous generation
    forge(slotOf(queued), genOf(queued), ECHO); // a job that has not started
    forge(slotOf(busy), genOf(busy), BUSY); // right slot and generation, from a worker that does not hold it
    forge(l.jobSlots + 3, 1, ECHO); // no such slot
    forge(-1, 1, ECHO);
    // ORDERING: the forged records are written before the tail is published, as a worker would.
    Atomics.store(v.i32, RES_TAIL_I, tail);

    const before = e.stats();
    e.poll(sink);
    expect(e.staleRecords).toBe(7);
    expect(got.size).toBe(1);
    expect(e.stats().completed).toBe(before.completed);

    Atomics.store(new Int32Array(latch), 0, 1);
    Atomics.notify(new Int32Array(latch), 0);
    await pollUntil(e, sink, () => got.size === 3);
    expect(twice).toBe(0);
    expect(got.get(early)).toMatchObject({ status: Outcome.Done, values: [1.5, 2, 3, 0] });
    expect(got.get(busy)).toMatchObject({ status: Outcome.Done, worker: 0 });
    expect(got.get(queued)).toMatchObject({ status: Outcome.Done, values: [7, 8, 9, 0], worker: 0 });
    expect(e.staleRecords).toBe(7);
    expect(e.stats().inFlight).toBe(0);
    expect(accountingHolds(e)).toBe(true);
  });
});

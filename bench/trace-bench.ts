/**
 * `npm run bench:trace [-- --quick] [-- --json] [-- --workers N] [-- --frames N]`: what the
 * job timeline costs the main thread. Two engines in one process, one with
 * EngineOptions.trace and one without, run the frame-budget loop of `npm run bench`
 * (1,000 COMPUTE_HEAVY jobs per 30 Hz frame: beginFrame, poll with a trivial apply,
 * 1,000 submits; only those calls are timed) on alternate frames, so drift on a shared
 * machine hits both alike. A third engine, also without the trace, runs beside them as a
 * control: its ratio to the first (`control_ratio_p50`, ideally 1) is how far two identical
 * engines differ in the same run, the noise any on/off ratio carries. Then the hot path
 * alone: submit x1,000 + poll on inline engines (workers: 0), rounds interleaved.
 *
 * Target: trace on within 10 % of trace off (frame_budget_trace_ms.ratio_p50 <= 1.10); `parts_us`
 * says which of the three calls a difference is in.
 * With --json the last stdout line is one JSON object.
 */
import { parseArgs } from 'node:util';
import type { ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { FRAME_MS, sleep } from '../game/time.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from '../stress/modes/heavy.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    frames: { type: 'string' },
  },
});
const workers = Number(args.workers);
const frames = Number(args.frames ?? (args.quick ? 120 : 600));
const PER_FRAME = 1000;
const log = (...a: unknown[]): void => {
  if (args.json) console.error(...a);
  else console.log(...a);
};

interface Summary {
  p50: number;
  p99: number;
  mean: number;
}

const summarize = (xs: Float64Array): Summary => {
  const s = Float64Array.from(xs).sort();
  let sum = 0;
  for (const x of s) sum += x;
  const r = (x: number): number => Number(x.toFixed(4));
  return { p50: r(s[Math.floor(s.length * 0.5)]!), p99: r(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!), mean: r(sum / s.length) };
};

/** One engine's side of the frame loop: its own frame counter, apply and params. */
class Side {
  readonly ms: Float64Array;
  private readonly heavy: number;
  private readonly p = new Float64Array([0, HEAVY_ITERATIONS]);
  private readonly count = new Int32Array(2);
  private readonly sum = new Float64Array(1);
  private frame = 0;
  private readonly apply = (r: ResultView): void => {
    this.count[0]++;
    this.sum[0] += r.values[0];
  };
  constructor(readonly engine: EngineCore, frames: number) {
    this.heavy = engine.kindId(HEAVY_KIND);
    this.ms = new Float64Array(frames);
  }
  /** One frame; its main-thread time goes to ms[slot] (slot < 0: warm-up, not kept). */
  /** Time in beginFrame, poll and the submits, summed over the kept frames (ms). */
  readonly parts = new Float64Array(3);
  frameOnce(slot: number): void {
    const e = this.engine;
    const f = this.frame++;
    const t0 = performance.now();
    e.beginFrame(f);
    const t1 = performance.now();
    e.poll(this.apply);
    const t2 = performance.now();
    for (let i = 0; i < PER_FRAME; i++) {
      this.p[0] = f * PER_FRAME + i;
      if (e.submit(this.heavy, this.p, i) < 0) this.count[1]++;
    }
    const t3 = performance.now();
    if (slot < 0) return;
    this.ms[slot] = t3 - t0;
    this.parts[0] += t1 - t0;
    this.parts[1] += t2 - t1;
    this.parts[2] += t3 - t2;
  }
  /** Mean microseconds per frame in each part. */
  partsUs(): { begin_frame: number; poll: number; submit: number } {
    const us = (ms: number): number => Number(((ms * 1000) / this.ms.length).toFixed(1));
    return { begin_frame: us(this.parts[0]!), poll: us(this.parts[1]!), submit: us(this.parts[2]!) };
  }
  get refused(): number {
    return this.count[1];
  }
  async drain(): Promise<number> {
    while (this.engine.inFlight > 0) {
      this.engine.poll(this.apply);
      await sleep(1);
    }
    return this.count[0];
  }
}

type Parts = ReturnType<Side['partsUs']>;

async function frameBudget(): Promise<{ off: Summary; on: Summary; control: Summary; parts: { off: Parts; on: Parts }; refused: number; traceEvents: number }> {
  const off = await EngineCore.start({ workers });
  const on = await EngineCore.start({ workers, trace: true });
  const control = await EngineCore.start({ workers });
  try {
    const sides = [new Side(off, frames), new Side(on, frames), new Side(control, frames)];
    const WARM = 30;
    const start = performance.now();
    // Each frame window runs every engine once; which goes first turns with the frames.
    for (let k = -WARM; k < frames; k++) {
      const first = (k + WARM) % sides.length;
      for (let j = 0; j < sides.length; j++) sides[(first + j) % sides.length]!.frameOnce(k);
      const next = start + (k + WARM + 1) * FRAME_MS;
      await sleep(Math.max(0, next - performance.now()));
    }
    let refused = 0;
    for (const side of sides) {
      await side.drain();
      refused += side.refused;
    }
    const traceEvents = on.traceEvents().length;
    return {
      off: summarize(sides[0]!.ms),
      on: summarize(sides[1]!.ms),
      control: summarize(sides[2]!.ms),
      parts: { off: sides[0]!.partsUs(), on: sides[1]!.partsUs() },
      refused,
      traceEvents,
    };
  } finally {
    await off.shutdown();
    await on.shutdown();
    await control.shutdown();
  }
}

/** submit x1,000 + poll on inline engines: the hooks' cost with no other thread in the way. */
async function hotPath(): Promise<{ off: number; on: number }> {
  const off = await EngineCore.start({ workers: 0 });
  const on = await EngineCore.start({ workers: 0, trace: true });
  const NOOP = off.kindId('noop');
  const p = new Float64Array([1, 2]);
  const sink = (): void => {};
  const round = (e: EngineCore, reps: number): number => {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < 1000; i++) e.submit(NOOP, p);
      e.poll(sink);
    }
    return ((performance.now() - t0) * 1e6) / (reps * 1000);
  };
  const offNs: number[] = [];
  const onNs: number[] = [];
  try {
    round(off, 200);
    round(on, 200);
    for (let k = 0; k < (args.quick ? 6 : 20); k++) {
      offNs.push(round(off, 100));
      onNs.push(round(on, 100));
      await sleep(0);
    }
  } finally {
    await off.shutdown();
    await on.shutdown();
  }
  offNs.sort((a, b) => a - b);
  onNs.sort((a, b) => a - b);
  return { off: Number(offNs[offNs.length >> 1]!.toFixed(1)), on: Number(onNs[onNs.length >> 1]!.toFixed(1)) };
}

log(`framejobs trace bench${args.quick ? ' (quick)' : ''}: ${workers} workers per engine, ${frames} frames of ${PER_FRAME} jobs each, trace off, on and off again in turns`);
const fb = await frameBudget();
const ratioP50 = fb.on.p50 / fb.off.p50;
const ratioMean = fb.on.mean / fb.off.mean;
log(`frame budget, trace off: p50 ${fb.off.p50.toFixed(3)} ms, p99 ${fb.off.p99.toFixed(3)} ms, mean ${fb.off.mean.toFixed(3)} ms`);
log(`frame budget, trace on:  p50 ${fb.on.p50.toFixed(3)} ms, p99 ${fb.on.p99.toFixed(3)} ms, mean ${fb.on.mean.toFixed(3)} ms (${fb.traceEvents.toLocaleString()} events exported)`);
const controlP50 = fb.control.p50 / fb.off.p50;
log(`on / off: p50 ${ratioP50.toFixed(3)}, mean ${ratioMean.toFixed(3)} (target <= 1.10); a second engine without the trace / off: p50 ${controlP50.toFixed(3)} (the run's noise)`);
for (const side of ['off', 'on'] as const) {
  const x = fb.parts[side];
  log(`  trace ${side.padEnd(3)} mean per frame: beginFrame ${x.begin_frame} us, poll ${x.poll} us, submits ${x.submit} us`);
}
const hp = await hotPath();
log(`hot path, submit + poll per job, inline: trace off ${hp.off} ns, on ${hp.on} ns`);
const result = {
  frame_budget_trace_ms: {
    jobs_per_frame: PER_FRAME,
    off: fb.off,
    on: fb.on,
    ratio_p50: Number(ratioP50.toFixed(3)),
    ratio_mean: Number(ratioMean.toFixed(3)),
    control: fb.control,
    control_ratio_p50: Number(controlP50.toFixed(3)),
    refused: fb.refused,
    parts_us: fb.parts,
  },
  hot_path_trace_ns: { off: hp.off, on: hp.on, ratio: Number((hp.on / hp.off).toFixed(3)) },
  trace_events_exported: fb.traceEvents,
  workers,
  frames,
  quick: args.quick,
};
if (args.json) console.log(JSON.stringify(result));

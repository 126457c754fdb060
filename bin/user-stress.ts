/**
 * `framejobs stress --kinds MODULE --workload MODULE`: the graded stress report for a
 * user's own kinds. The kinds module is loaded by URL on both sides (kindModules, so
 * it must be JavaScript that Node can import, or TypeScript under a loader such as
 * tsx); the workload module (see workload.ts) says how to make job i's parameters
 * from a seeded random source. Burst mode submits as fast as the engine admits; frame
 * mode submits `jobsPerFrame` jobs every 30 Hz frame with a deadline. Both are graded
 * with the same criteria as the built-in report.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { EngineOptions, ResultView } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { platform } from '#platform';
import { mulberry32 } from '../game/random.js';
import { FRAME_MS, sleep, sleepUntil, yieldToEventLoop } from '../game/time.js';
import { toJson } from '../stress/cli/main.js';
import { JOB_CAPACITY, MeasuredRun, noFailureExpected } from '../stress/modes/common.js';
import { BURST_QUEUE_MS } from '../stress/modes/heavy.js';
import { grade } from '../stress/report/grade.js';
import { LatencyRecorder } from '../stress/report/latency.js';
import type { StressResult } from '../stress/report/result.js';
import { Progress, paletteFor, renderReport } from '../stress/report/text.js';
import type { StressWorkload } from './workload.js';

export const USER_USAGE = `Your own kinds, graded in burst and frame modes:
  framejobs stress --kinds ./kinds.js --workload ./workload.js [--mode burst|frame|both] [--seconds N] [--workers N] [--seed N] [--json]
  --kinds MODULE     a module exporting \`kinds\` (defineKind results): a path (from the current folder) or a URL
  --workload MODULE  a module exporting \`workload\`: { kind, params(i, random, out), check?(params, values), jobsPerFrame? }
  --mode             burst, frame, or both (default both)
  --seconds N        length of each mode's submit phase (default 5)
  --workers N        worker threads (default: one fewer than the cores, at least 1)
  --seed N           seed of the random source handed to params (default 1)
  --json             print one JSON object as the last line of stdout`;

interface UserOptions {
  readonly kindsUrl: string;
  readonly workload: StressWorkload;
  readonly kindsArg: string;
  readonly seconds: number;
  readonly workers: number;
  readonly seed: number;
}

const bad = (msg: string): never => {
  throw new EngineError('INVALID_OPTION', msg);
};

/** A path from the current folder, or a URL with a scheme, as an importable URL. */
const moduleUrl = (arg: string): string => (/^[a-z][a-z0-9+.-]+:/i.test(arg) ? arg : pathToFileURL(resolve(process.cwd(), arg)).href);

function number(name: string, raw: string | undefined, def: number, ok: (n: number) => boolean, what: string): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !ok(n)) bad(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  return n;
}

async function loadWorkload(arg: string): Promise<StressWorkload> {
  let mod: { workload?: unknown; default?: unknown };
  try {
    mod = (await import(moduleUrl(arg))) as typeof mod;
  } catch (e) {
    return bad(`could not import the workload module ${arg}: ${(e as Error).message}`);
  }
  const w = (mod.workload ?? mod.default) as Partial<StressWorkload> | undefined;
  if (typeof w !== 'object' || w === null) return bad(`the workload module ${arg} must export \`workload\``);
  if (typeof w.kind !== 'string') bad('workload.kind must be the name of one of your kinds');
  if (typeof w.params !== 'function') bad('workload.params must be a function (i, random, out) that fills out with job i\'s parameters');
  if (w.check !== undefined && typeof w.check !== 'function') bad('workload.check must be a function (params, values) => boolean');
  if (w.jobsPerFrame !== undefined && !(Number.isInteger(w.jobsPerFrame) && w.jobsPerFrame > 0 && w.jobsPerFrame <= 4096)) bad('workload.jobsPerFrame must be an integer from 1 to 4096');
  if (w.deadlineFrames !== undefined && !(Number.isInteger(w.deadlineFrames) && w.deadlineFrames >= 0)) bad('workload.deadlineFrames must be a non-negative integer');
  return w as StressWorkload;
}

/**
 * Each accepted job's parameters are kept by its slot (its id modulo the job capacity, a
 * power of two) until its result arrives, for workload.check. A slot holds one job at a
 * time; a ring indexed by submission number would not do, since one job can wait on a
 * busy worker while any number of later jobs pass through the others.
 */
class Checker {
  wrong = 0;
  private readonly kept: Float64Array;
  private readonly view: Float64Array[];
  constructor(private readonly w: StressWorkload, private readonly n: number) {
    this.kept = new Float64Array(w.check ? JOB_CAPACITY * n : 0);
    this.view = w.check ? Array.from({ length: JOB_CAPACITY }, (_, t) => this.kept.subarray(t * n, t * n + n)) : [];
  }
  /** After submit: `id` is what it returned (a negative rejection keeps nothing). */
  keep(id: number, params: Float64Array): void {
    if (this.w.check && id >= 0) this.kept.set(params, (id & (JOB_CAPACITY - 1)) * this.n);
  }
  /** False for a completed job whose values the workload's check refuses. */
  ok(r: ResultView): boolean {
    if (!this.w.check) return true;
    let good: boolean;
    try {
      good = this.w.check(this.view[r.jobId & (JOB_CAPACITY - 1)]!, r.values.subarray(0, r.valueCount)) === true;
    } catch {
      good = false;
    }
    if (!good) this.wrong++;
    return good;
  }
}

async function start(o: UserOptions, maxQueueMs: number): Promise<EngineCore> {
  const opts: EngineOptions = { workers: o.workers, kindModules: [o.kindsUrl], jobCapacity: JOB_CAPACITY, maxQueueMs };
  if (o.workload.shared) opts.shared = o.workload.shared;
  if (o.workload.config) opts.config = o.workload.config;
  return EngineCore.start(opts);
}

function kindOf(engine: EngineCore, name: string): number {
  try {
    return engine.kindId(name);
  } catch {
    return bad(`workload.kind ${JSON.stringify(name)} is not among the kinds: ${engine.kinds.map((k) => k.name).join(', ')}`);
  }
}

async function runBurstMode(o: UserOptions, onProgress: (f: number, now: number, d: () => string) => void): Promise<StressResult> {
  const maxQueueMs = BURST_QUEUE_MS;
  const engine = await start(o, maxQueueMs);
  try {
    const kind = kindOf(engine, o.workload.kind);
    const n = engine.kinds[kind]!.params.length;
    const params = new Float64Array(n);
    const rnd = mulberry32(o.seed);
    const checker = new Checker(o.workload, n);
    // Warm-up: compile the handler everywhere and give admission control real run times.
    for (let i = 0, t = performance.now(); performance.now() - t < 500; i++) {
      o.workload.params(i, rnd, params);
      if (engine.submit(kind, params, 0) < 0) await sleep(1);
      engine.poll(() => {});
    }
    while (engine.inFlight > 0) {
      engine.poll(() => {});
      await sleep(1);
    }
    const run: MeasuredRun = new MeasuredRun(engine, JOB_CAPACITY, noFailureExpected, (r) => {
      if (!checker.ok(r)) run.ledger.unexpectedFailed++;
    }, engine.kinds.length);
    const { ledger, t0 } = run;
    const end = t0 + o.seconds * 1000;
    let i = 0;
    let frame = -1;
    let now = t0;
    let lastYield = t0;
    while (now < end) {
      const f = ((now - t0) / FRAME_MS) | 0;
      if (f !== frame) engine.beginFrame((frame = f));
      let refused = false;
      for (let b = 0; b < 256; b++, i++) {
        o.workload.params(i, rnd, params);
        const id = engine.submit(kind, params, i & 0x3fffffff);
        checker.keep(id, params);
        ledger.onSubmit(id, performance.now());
        if (id < 0) {
          refused = true;
          i++;
          break;
        }
      }
      run.poll();
      now = performance.now();
      run.tick(now);
      onProgress((now - t0) / (end - t0), now, () => `burst  done ${ledger.completed.toLocaleString('en-US')}  refused ${ledger.rejected.toLocaleString('en-US')}`);
      if (refused) {
        await sleep(1);
        now = lastYield = performance.now();
      } else if (now - lastYield > 4) {
        await yieldToEventLoop();
        now = lastYield = performance.now();
      }
    }
    run.endSubmit();
    await run.collect(10_000);
    return run.finish({ mode: 'burst', o, killed: 0, notes: notes(o, checker, `admission budget maxQueueMs ${+maxQueueMs.toFixed(2)} ms per worker`) });
  } finally {
    await engine.shutdown({ timeoutMs: 2000 });
  }
}

async function runFrameMode(o: UserOptions, onProgress: (f: number, now: number, d: () => string) => void): Promise<StressResult> {
  const maxQueueMs = FRAME_MS * Math.min(1, platform.cores() / Math.max(1, o.workers));
  const engine = await start(o, maxQueueMs);
  try {
    const kind = kindOf(engine, o.workload.kind);
    const n = engine.kinds[kind]!.params.length;
    const params = new Float64Array(n);
    const rnd = mulberry32(o.seed);
    const checker = new Checker(o.workload, n);
    const perFrame = o.workload.jobsPerFrame ?? 64;
    const submitOpts = { deadlineFrames: o.workload.deadlineFrames ?? 4 };
    const mainMs = new LatencyRecorder(1024);
    const appliedAfter = [0, 0, 0, 0];
    const run: MeasuredRun = new MeasuredRun(engine, JOB_CAPACITY, noFailureExpected, (r: ResultView) => {
      if (!checker.ok(r)) run.ledger.unexpectedFailed++;
      const late = engine.frame - r.submitFrame;
      appliedAfter[late < 0 ? 0 : late > 3 ? 3 : late]!++;
    }, engine.kinds.length);
    const { ledger, t0 } = run;
    const end = t0 + o.seconds * 1000;
    let frames = 0;
    let overruns = 0;
    let i = 0;
    for (let f = 0; ; f++) {
      const frameStart = t0 + f * FRAME_MS;
      let now = await sleepUntil(frameStart);
      if (now >= end) break;
      frames++;
      const a = performance.now();
      engine.beginFrame(f);
      run.poll();
      for (let k = 0; k < perFrame; k++, i++) {
        o.workload.params(i, rnd, params);
        const id = engine.submit(kind, params, i & 0x3fffffff, submitOpts);
        checker.keep(id, params);
        ledger.onSubmit(id, performance.now());
      }
      const spent = performance.now() - a;
      const b = await sleepUntil(frameStart + FRAME_MS / 2);
      run.poll();
      const total = spent + (performance.now() - b);
      mainMs.add(total);
      if (total > FRAME_MS) overruns++;
      now = performance.now();
      run.tick(now);
      onProgress((now - t0) / (end - t0), now, () => `frame  frame ${f}  done ${ledger.completed.toLocaleString('en-US')}`);
    }
    run.endSubmit();
    await run.collect(10_000);
    return run.finish({
      mode: 'frame',
      o,
      killed: 0,
      frames: { frames, overruns, mainThreadMs: mainMs.summary(), appliedAfterFrames: appliedAfter },
      notes: notes(o, checker, `${perFrame} jobs per 30 Hz frame, deadline ${submitOpts.deadlineFrames} frames; admission budget maxQueueMs ${+maxQueueMs.toFixed(2)} ms per worker`),
    });
  } finally {
    await engine.shutdown({ timeoutMs: 2000 });
  }
}

function notes(o: UserOptions, checker: Checker, extra: string): string[] {
  const out = [`kind ${JSON.stringify(o.workload.kind)} from ${o.kindsArg}; ${extra}`];
  if (o.workload.check) out.push(checker.wrong === 0 ? 'every completed result passed workload.check' : `${checker.wrong} result(s) failed workload.check (counted as unexpected failures)`);
  return out;
}

/** Runs the user-kinds stress test with argv (after `stress`). Returns the exit code. */
export async function runUserStress(argv: readonly string[]): Promise<number> {
  let o: UserOptions;
  let modes: ('burst' | 'frame')[];
  let json = false;
  try {
    let v: ReturnType<typeof parse>;
    try {
      v = parse(argv);
    } catch (e) {
      return bad((e as Error).message);
    }
    if (v.kinds === undefined || v.workload === undefined) bad('--kinds and --workload go together: a kinds module and a workload module');
    const mode = v.mode ?? 'both';
    if (mode === 'both') modes = ['burst', 'frame'];
    else if (mode === 'burst' || mode === 'frame') modes = [mode];
    else return bad(`--mode must be burst, frame or both, got ${JSON.stringify(mode)}`);
    json = v.json === true;
    o = {
      kindsArg: v.kinds!,
      kindsUrl: moduleUrl(v.kinds!),
      workload: await loadWorkload(v.workload!),
      seconds: number('seconds', v.seconds, 5, (n) => n > 0 && n <= 3600, 'a number of seconds in (0, 3600]'),
      workers: number('workers', v.workers, Math.max(1, Math.min(16, platform.cores() - 1)), (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'an integer from 1 to 64'),
      seed: number('seed', v.seed, 1, (n) => Number.isInteger(n) && n >= 0 && n <= 0x7fffffff, 'an integer from 0 to 2147483647'),
    };
  } catch (e) {
    if (e instanceof EngineError) {
      process.stderr.write(`framejobs stress: ${e.message}\n\n${USER_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const summaries: Record<string, unknown>[] = [];
  let worst = 0;
  for (const mode of modes) {
    const bar = new Progress(process.stderr, mode);
    let r: StressResult;
    try {
      r = mode === 'burst' ? await runBurstMode(o, (f, n, d) => bar.update(f, n, d)) : await runFrameMode(o, (f, n, d) => bar.update(f, n, d));
    } catch (e) {
      bar.done();
      const msg = e instanceof EngineError ? `${e.code}: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`framejobs stress: the ${mode} run could not complete: ${msg}\n`);
      return 2;
    }
    bar.done();
    const g = grade(r);
    process.stdout.write(renderReport(r, g, paletteFor(process.stdout)) + '\n');
    summaries.push(toJson(r, g));
    if (g.grade === 'F') worst = 1;
  }
  if (json) process.stdout.write(JSON.stringify({ kind: o.workload.kind, runs: summaries }) + '\n');
  return worst;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    options: {
      kinds: { type: 'string' },
      workload: { type: 'string' },
      mode: { type: 'string' },
      seconds: { type: 'string' },
      workers: { type: 'string' },
      seed: { type: 'string' },
      json: { type: 'boolean' },
    },
  }).values;
}

/**
 * `npm run soak -- [--minutes N] [--json] [--workers W] [--seed S] [--kill-every SECONDS] [--agents A]`
 * (`--help` lists them)
 *
 * The soak: the 30 Hz game (game/world.ts: paths, distance fields, physics predictions
 * and ray batches through FrameSync, the Rapier world stepped on this thread) plus the
 * built-in kinds (noop, compute-heavy) every frame, for N minutes (default 10;
 * fractions allowed), with a worker killed every few seconds. Every submit and every
 * outcome goes through an independent ledger (tools/soak-ledger.ts), so a job the
 * engine loses or delivers twice is seen.
 *
 * Reported: frames, jobs by outcome, lost (must be 0), kills and respawns, this
 * process's heap and RSS at the start, after the first minute and at the end (after a
 * GC), RSS growth after the first minute, Rapier's wasm memory per worker at the start
 * and the end (measured inside each worker by the probe.memory kind, tools/soak-probe.ts)
 * and on this thread, and the deadline hit rate.
 *
 * Deadline hit rate: the game applies every result exactly 2 frames after its submit
 * frame (the deterministic policy). A hit is a result that came back from a worker by
 * then; a miss is one the game had to compute itself at that frame (runInline on a
 * late job, or its own runner for a job lost with a killed worker). hit rate =
 * (applied - inline fallbacks - lost fallbacks) / applied. Kills count against it.
 *
 * Worker 0 is never killed, so one worker's Rapier instance lives through the whole
 * run and its wasm memory is a true start-to-end comparison; the others are killed in
 * turn and their end figure is that of their latest incarnation.
 *
 * With --json the last stdout line is the report as one JSON object; progress lines go
 * to stderr.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ResultView, SubmitOptions } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { Outcome } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import { SEED, cliOptions, integerIn, numberIn, numberOption, parseCli, runCli, runIfMain } from '../game/cli-args.js';
import { generateLevel } from '../game/grid.js';
import { KindRunner } from '../frame/kind-runner.js';
import { kinds as gameKinds } from '../game/kinds.js';
import { FixedLoop } from '../frame/loop.js';
import { initRapier } from '../game/physics.js';
import type { SyncEngine, SyncMetrics } from '../frame/sync.js';
import { FRAME_HZ, sleep } from '../game/time.js';
import { GameWorld } from '../game/world.js';
import { JOB_CAPACITY } from '../stress/modes/common.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from '../stress/modes/heavy.js';
import { SoakLedger } from './soak-ledger.js';
// Imported before initRapier() so this thread's Rapier memory is seen too.
import { PROBE_HEAP_USED, PROBE_WASM_BYTES, wasmMemoryBytes } from './soak-probe.js';

export interface SoakOptions {
  minutes: number;
  json: boolean;
  workers: number;
  seed: number;
  /** Seconds between worker kills; 0 for none. Default 10. */
  killEveryS: number;
  agents: number;
  help?: boolean;
}

/** Built-in jobs per frame on top of the game's own. */
const HEAVY_PER_FRAME = 20;
const NOOP_PER_FRAME = 10;
const EXTRA_DEADLINE_FRAMES = 2;
const PROBE_EVERY_S = 5;
const SERIES_EVERY_S = 30;
const WARM_UP_S = 3;
const MB = 1024 * 1024;

export const USAGE = `Usage: npm run soak -- [options]

  --minutes N        length of the run in minutes, fractions allowed (default 10)
  --workers N        worker threads (default 4)
  --seed N           seed of the level and the jobs (default 1)
  --kill-every S     kill a worker every S seconds, 0 for never (default 10)
  --agents N         agents in the game (default 500)
  --json             print the report as one JSON object on the last line
  --help             this text`;

const OPTIONS = cliOptions(['minutes', 'workers', 'seed', 'kill-every', 'agents'], ['json']);

export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  const v = parseCli(argv, OPTIONS);
  const o: SoakOptions = {
    minutes: numberOption(v, 'minutes', numberIn(0.05), 10),
    json: v.json === true,
    workers: numberOption(v, 'workers', integerIn(1), 4),
    seed: numberOption(v, 'seed', SEED, 1),
    killEveryS: numberOption(v, 'kill-every', numberIn(0), 10),
    agents: numberOption(v, 'agents', integerIn(1), 500),
  };
  if (v.help === true) o.help = true;
  return o;
}

interface MemSample {
  at_s: number;
  rss_mb: number;
  heap_used_mb: number;
  heap_total_mb: number;
  external_mb: number;
}

interface WorkerWasm {
  worker: number;
  /** Bytes of Rapier wasm memory at the first and the last reading, and the most seen. */
  start: number;
  end: number;
  max: number;
  heap_used_start_mb: number;
  heap_used_end_mb: number;
  readings: number;
  killed: boolean;
}

export interface SoakReport {
  minutes: number;
  workers: number;
  seed: number;
  agents: number;
  kill_every_s: number;
  frames: number;
  wall_s: number;
  jobs: {
    submitted: number;
    completed: number;
    failed: number;
    expired: number;
    cancelled: number;
    rejected: number;
    in_flight: number;
    duplicates: number;
    vanished: number;
    unexpected_failed: number;
    failed_by_reason: Record<string, number>;
    rejected_by_reason: Record<string, number>;
    delivered_after_frames: { '0': number; '1': number; '2': number; later: number };
  };
  lost: number;
  kills: number;
  respawns: number;
  memory: {
    start: MemSample;
    first_minute: MemSample;
    end: MemSample;
    rss_growth_after_first_minute_pct: number;
    heap_growth_after_first_minute_pct: number;
    rss_series_mb: number[];
  };
  wasm: { per_worker: WorkerWasm[]; main_start: number; main_end: number };
  shared_bytes: { start: number; end: number };
  deadline: {
    hit_rate: number;
    applied: number;
    inline_fallbacks: number;
    lost_fallbacks: number;
    applied_within_2_frames: number;
  };
  game: Pick<SyncMetrics, 'jobs_per_frame' | 'engine_ms_per_frame'>;
  loop: { ticks: number; capped_ticks: number; dropped_ms: number };
  stale_records: number;
  notes: string[];
  targets: { lost_zero: boolean; rss_growth_under_5_pct: boolean; deadline_hit_rate_at_least_99_9_pct: boolean };
}

/** A GC function for fair heap figures; the npm script does not pass --expose-gc, so ask V8 for one. */
function gcFunction(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // Without it heap figures include garbage not yet collected; still comparable.
  }
  return () => {};
}

/**
 * The engine as the game sees it, with every submit and outcome also written to the
 * ledger. Probe results are taken out here; everything else goes on to the game.
 * Main thread only; allocation-free per call.
 */
class LedgeredEngine implements SyncEngine {
  private cb: (r: ResultView) => void = () => {};
  private readonly wrapped: (r: ResultView) => void;

  constructor(
    readonly engine: EngineCore,
    private readonly ledger: SoakLedger,
    private readonly probeKind: number,
    private readonly onProbe: (r: ResultView) => void,
  ) {
    this.wrapped = (r) => {
      this.ledger.onResult(r, this.engine.frame);
      if (r.kind === this.probeKind) this.onProbe(r);
      else this.cb(r);
    };
  }

  kindId(name: string): number {
    return this.engine.kindId(name);
  }
  beginFrame(frame: number): void {
    this.engine.beginFrame(frame);
  }
  submit(kind: number, params: ArrayLike<number>, tag?: number, opts?: SubmitOptions): number {
    const id = this.engine.submit(kind, params, tag, opts);
    this.ledger.onSubmit(id);
    return id;
  }
  poll(onResult: (r: ResultView) => void, max?: number): number {
    this.cb = onResult;
    return this.engine.poll(this.wrapped, max);
  }
  cancel(jobId: number): boolean {
    const ok = this.engine.cancel(jobId);
    if (ok) this.ledger.onCancelled(jobId);
    return ok;
  }
  runInline(jobId: number, onResult: (r: ResultView) => void): boolean {
    this.cb = onResult;
    return this.engine.runInline(jobId, this.wrapped);
  }
  arenaAlloc(bytes: number): number {
    return this.engine.arenaAlloc(bytes);
  }
  get arenaI32(): Int32Array {
    return this.engine.arenaI32;
  }
  get workerCount(): number {
    return this.engine.workerCount;
  }
}

const round = (x: number, d = 2): number => +x.toFixed(d);

export async function runSoak(o: SoakOptions, progress: (line: string) => void = () => {}): Promise<SoakReport> {
  const gc = gcFunction();
  const t0 = performance.now();
  const sample = (): MemSample => {
    gc();
    const m = process.memoryUsage();
    return {
      at_s: round((performance.now() - t0) / 1000, 1),
      rss_mb: round(m.rss / MB),
      heap_used_mb: round(m.heapUsed / MB),
      heap_total_mb: round(m.heapTotal / MB),
      external_mb: round(m.external / MB),
    };
  };
  await initRapier();
  const grid = generateLevel({ seed: o.seed, width: 256, height: 256 });
  const engine = await EngineCore.start({
    workers: o.workers,
    jobCapacity: JOB_CAPACITY,
    kindModules: [builtModuleUrl(import.meta.url, '../game/kinds.js'), builtModuleUrl(import.meta.url, './soak-probe.js')],
    shared: { nav: grid.sab },
    arenaBytes: 8 << 20,
    initTimeoutMs: 30_000,
  });
  const sharedStart = engine.stats().sharedBytes;
  const ledger = new SoakLedger(JOB_CAPACITY);
  const wasm: WorkerWasm[] = [];
  for (let i = 0; i < o.workers; i++) {
    wasm.push({ worker: i, start: -1, end: -1, max: -1, heap_used_start_mb: -1, heap_used_end_mb: -1, readings: 0, killed: false });
  }
  const onProbe = (r: ResultView): void => {
    if (r.status !== Outcome.Done || r.worker < 0) return;
    const w = wasm[r.worker];
    const bytes = r.values[PROBE_WASM_BYTES];
    const heap = round(r.values[PROBE_HEAP_USED] / MB);
    if (w.readings === 0) {
      w.start = bytes;
      w.heap_used_start_mb = heap;
    }
    w.end = bytes;
    w.heap_used_end_mb = heap;
    if (bytes > w.max) w.max = bytes;
    w.readings++;
  };
  const PROBE = engine.kindId('probe.memory');
  const proxy = new LedgeredEngine(engine, ledger, PROBE, onProbe);
  let mainWasmStart = -1;
  let world: GameWorld | null = null;
  let kills = 0;
  const notes: string[] = [];
  try {
    const runner = await KindRunner.create(gameKinds, { workerIndex: -1, shared: { nav: grid.sab }, config: {} }, 1 << 20);
    world = new GameWorld(grid, proxy, runner, { seed: o.seed, agents: o.agents });
    const w = world;
    const HEAVY = engine.kindId(HEAVY_KIND);
    const NOOP = engine.kindId('noop');
    const heavyP = new Float64Array(2);
    const noopP = new Float64Array(2);
    const noParams = new Float64Array(0);
    const extraOpts: SubmitOptions = { deadlineFrames: EXTRA_DEADLINE_FRAMES };
    const frames = Math.max(1, Math.round(o.minutes * 60 * FRAME_HZ));
    const warmFrame = Math.min(WARM_UP_S * FRAME_HZ, frames - 1);
    // "After the first minute": at 60 s, or a fifth of the way into a shorter run.
    const minuteFrame = Math.max(warmFrame, Math.min(60 * FRAME_HZ, Math.floor(frames / 5)));
    const probeEvery = PROBE_EVERY_S * FRAME_HZ;
    const seriesEvery = SERIES_EVERY_S * FRAME_HZ;
    const killEvery = o.killEveryS > 0 ? Math.max(1, Math.round(o.killEveryS * FRAME_HZ)) : 0;
    const series = new Float64Array(Math.ceil(frames / seriesEvery) + 1);
    let seriesN = 0;
    let start = null as MemSample | null;
    let minute = null as MemSample | null;
    let nextVictim = 1;
    let lastKill = 0;
    const loop = new FixedLoop((frame) => {
      if (killEvery > 0 && frame > 0 && frame % killEvery === 0) {
        const victim = pickVictim(engine, nextVictim);
        if (victim >= 0) {
          engine.killWorker(victim);
          wasm[victim].killed = true;
          nextVictim = victim + 1;
          lastKill = frame;
          kills++;
        }
      }
      w.step(frame);
      for (let i = 0; i < HEAVY_PER_FRAME; i++) {
        heavyP[0] = (frame * HEAVY_PER_FRAME + i) | 0;
        heavyP[1] = HEAVY_ITERATIONS;
        proxy.submit(HEAVY, heavyP, i, extraOpts);
      }
      for (let i = 0; i < NOOP_PER_FRAME; i++) {
        noopP[0] = frame;
        noopP[1] = i;
        proxy.submit(NOOP, noopP, i, extraOpts);
      }
      if (frame % probeEvery === 0 || frame === frames - 1) {
        // Twice as many probes as workers. The dispatcher gives each idle worker one, but
        // tiny jobs go out in runs once every worker has work queued, so a round in a busy
        // frame may reach only some workers; the last round, after everything is collected,
        // reaches each.
        for (let i = 0; i < 2 * o.workers; i++) proxy.submit(PROBE, noParams, -1);
      }
      // Memory is sampled when every worker is up and the last kill is half a period
      // back, so a sample never catches a worker half torn down or half started.
      const due = (start === null && frame >= warmFrame) || (minute === null && frame >= minuteFrame);
      const settled = due && (killEvery === 0 || (frame - lastKill >= killEvery / 2 && engine.health().every((h) => h.state === 'alive')));
      if (start === null && frame >= warmFrame && (settled || frame >= minuteFrame)) {
        start = sample();
        mainWasmStart = wasmMemoryBytes();
      }
      if (minute === null && frame >= minuteFrame && (settled || frame === frames - 1)) minute = sample();
      if (frame % seriesEvery === 0) series[seriesN++] = round(process.memoryUsage().rss / MB, 1);
      if (frame % (10 * FRAME_HZ) === 0 && frame > 0) {
        progress(
          `soak: ${((performance.now() - t0) / 60_000).toFixed(1)} min, frame ${frame}/${frames}, ` +
            `done ${ledger.completed}, failed ${ledger.failed}, awaiting ${ledger.pending}, kills ${kills}, ` +
            `rss ${(process.memoryUsage().rss / MB).toFixed(0)} MB`,
        );
      }
    });
    await loop.run(frames);
    const metrics = w.finish();
    // Collect: every job gets its outcome, every worker comes back.
    const deadline = performance.now() + 15_000;
    const drop = (): void => {};
    while (performance.now() < deadline) {
      proxy.poll(drop);
      if (ledger.pending === 0 && engine.inFlight === 0 && engine.health().every((h) => h.state === 'alive')) break;
      await sleep(2);
    }
    // Last probe rounds now that every worker is up, until each worker has answered one.
    // A round's probes stay with a worker that is awake rather than wake a sleeping one
    // (Dispatcher.awakeUnderShare), so a round can miss a worker; after a pause every
    // worker sleeps, and idle workers take turns at the first job of the next round.
    for (let round = 0; round < 4 * o.workers && performance.now() < deadline + 5000; round++) {
      if (round > 0 && wasm.every((x) => x.readings > 0)) break;
      if (round > 0) await sleep(50);
      let probesLeft = 2 * o.workers;
      const before = ledger.completed;
      for (let i = 0; i < probesLeft; i++) proxy.submit(PROBE, noParams, -1);
      while (performance.now() < deadline + 5000 && probesLeft > 0) {
        proxy.poll(drop);
        probesLeft = 2 * o.workers - (ledger.completed - before);
        await sleep(2);
      }
    }
    const end = sample();
    const s = engine.stats();
    const inFlight = engine.inFlight;
    const outcomes = ledger.completed + ledger.failed + ledger.expired + ledger.cancelled + ledger.rejected;
    const lost = ledger.submitted - outcomes - inFlight;
    for (const k of ['submitted', 'completed', 'failed', 'expired', 'cancelled', 'rejected'] as const) {
      if (s[k] !== ledger[k]) notes.push(`engine counter ${k} reads ${s[k]}, the ledger counted ${ledger[k]}`);
    }
    if (ledger.pending !== inFlight) notes.push(`ledger awaits ${ledger.pending} job(s), engine reports ${inFlight} in flight`);
    const st = start ?? end;
    const mn = minute ?? st;
    const applied = metrics.jobs.applied;
    const missed = metrics.inline_fallbacks + metrics.lost_fallbacks;
    const hitRate = applied === 0 ? 1 : (applied - missed) / applied;
    const rssGrowth = (100 * (end.rss_mb - mn.rss_mb)) / mn.rss_mb;
    const heapGrowth = (100 * (end.heap_used_mb - mn.heap_used_mb)) / mn.heap_used_mb;
    const a = ledger.deliveredAfter;
    return {
      minutes: o.minutes,
      workers: o.workers,
      seed: o.seed,
      agents: o.agents,
      kill_every_s: o.killEveryS,
      frames: loop.frame,
      wall_s: round((performance.now() - t0) / 1000, 1),
      jobs: {
        submitted: ledger.submitted,
        completed: ledger.completed,
        failed: ledger.failed,
        expired: ledger.expired,
        cancelled: ledger.cancelled,
        rejected: ledger.rejected,
        in_flight: inFlight,
        duplicates: ledger.duplicates,
        vanished: ledger.vanished,
        unexpected_failed: ledger.unexpectedFailed,
        failed_by_reason: ledger.failedByReason,
        rejected_by_reason: ledger.rejectedByReason(),
        delivered_after_frames: { '0': a[0], '1': a[1], '2': a[2], later: a[3] },
      },
      lost,
      kills,
      respawns: s.respawns,
      memory: {
        start: st,
        first_minute: mn,
        end,
        rss_growth_after_first_minute_pct: round(rssGrowth),
        heap_growth_after_first_minute_pct: round(heapGrowth),
        rss_series_mb: Array.from(series.subarray(0, seriesN)),
      },
      wasm: { per_worker: wasm, main_start: mainWasmStart, main_end: wasmMemoryBytes() },
      shared_bytes: { start: sharedStart, end: s.sharedBytes },
      deadline: {
        hit_rate: hitRate,
        applied,
        inline_fallbacks: metrics.inline_fallbacks,
        lost_fallbacks: metrics.lost_fallbacks,
        applied_within_2_frames: metrics.applied_within_2_frames,
      },
      game: { jobs_per_frame: metrics.jobs_per_frame, engine_ms_per_frame: metrics.engine_ms_per_frame },
      loop: { ticks: loop.ticks, capped_ticks: loop.cappedTicks, dropped_ms: Math.round(loop.droppedMs) },
      stale_records: engine.staleRecords,
      notes,
      targets: {
        lost_zero: lost === 0 && ledger.duplicates === 0 && ledger.vanished === 0,
        rss_growth_under_5_pct: rssGrowth < 5,
        deadline_hit_rate_at_least_99_9_pct: hitRate >= 0.999,
      },
    };
  } finally {
    world?.physics.free();
    await engine.shutdown({ timeoutMs: 2000 });
  }
}

/** The first worker at or after `from` (cyclically, never worker 0 when there are others) that is up, or -1. */
function pickVictim(engine: EngineCore, from: number): number {
  const health = engine.health();
  const n = health.length;
  const first = n > 1 ? 1 : 0;
  for (let k = 0; k < n; k++) {
    const i = first + ((from - first + k) % (n - first));
    if (health[i].state === 'alive') return i;
  }
  return -1;
}

export function formatSoak(r: SoakReport): string {
  const j = r.jobs;
  const m = r.memory;
  const mb = (b: number): string => (b < 0 ? 'n/a' : `${(b / MB).toFixed(2)} MB`);
  const wasmLines = r.wasm.per_worker.map(
    (w) => `    worker ${w.worker}: ${mb(w.start)} -> ${mb(w.end)} (max ${mb(w.max)}, ${w.readings} readings${w.killed ? ', killed and respawned during the run' : ', never killed'}); heap ${w.heap_used_start_mb} -> ${w.heap_used_end_mb} MB`,
  );
  const ok = (b: boolean): string => (b ? 'met' : 'NOT MET');
  return [
    `soak: ${r.frames} frames in ${r.wall_s} s (${r.minutes} min at 30 Hz), ${r.workers} workers, ${r.agents} agents, seed ${r.seed}, a worker killed every ${r.kill_every_s} s`,
    `  jobs: ${j.submitted} submitted: ${j.completed} done, ${j.failed} failed, ${j.expired} expired, ${j.cancelled} cancelled, ${j.rejected} rejected, ${j.in_flight} in flight`,
    `  failed by reason ${JSON.stringify(j.failed_by_reason)}; rejected by reason ${JSON.stringify(j.rejected_by_reason)}`,
    `  lost ${r.lost}, duplicates ${j.duplicates}, vanished ${j.vanished}, unexplained failures ${j.unexpected_failed}, stale records ${r.stale_records}`,
    `  delivered after 0/1/2/later frames: ${j.delivered_after_frames['0']} / ${j.delivered_after_frames['1']} / ${j.delivered_after_frames['2']} / ${j.delivered_after_frames.later}`,
    `  kills ${r.kills}, respawns ${r.respawns}`,
    `  deadline hit rate ${(100 * r.deadline.hit_rate).toFixed(3)} % of ${r.deadline.applied} applied results (inline fallbacks ${r.deadline.inline_fallbacks}, lost-job fallbacks ${r.deadline.lost_fallbacks})`,
    `  memory (after GC): rss ${m.start.rss_mb} MB at ${m.start.at_s} s, ${m.first_minute.rss_mb} MB at ${m.first_minute.at_s} s, ${m.end.rss_mb} MB at ${m.end.at_s} s: ${m.rss_growth_after_first_minute_pct} % after the first minute`,
    `  heap used ${m.start.heap_used_mb} / ${m.first_minute.heap_used_mb} / ${m.end.heap_used_mb} MB (${m.heap_growth_after_first_minute_pct} % after the first minute); rss every ${SERIES_EVERY_S} s: ${m.rss_series_mb.join(' ')}`,
    `  Rapier wasm memory per worker:`,
    ...wasmLines,
    `    main thread: ${mb(r.wasm.main_start)} -> ${mb(r.wasm.main_end)}`,
    `  shared memory ${r.shared_bytes.start} bytes at start, ${r.shared_bytes.end} at the end`,
    `  loop: ${r.loop.ticks} ticks, ${r.loop.capped_ticks} capped, ${r.loop.dropped_ms} ms dropped; engine ms/frame p50 ${r.game.engine_ms_per_frame.p50.toFixed(3)} p99 ${r.game.engine_ms_per_frame.p99.toFixed(3)}`,
    ...r.notes.map((n) => `  note: ${n}`),
    `  targets: lost 0 ${ok(r.targets.lost_zero)}; rss growth < 5 % ${ok(r.targets.rss_growth_under_5_pct)}; deadline hit rate >= 99.9 % ${ok(r.targets.deadline_hit_rate_at_least_99_9_pct)}`,
  ].join('\n');
}

export function main(argv: readonly string[]): Promise<number> {
  return runCli('soak', USAGE, argv, parseSoakArgs, async (o) => {
    const report = await runSoak(o, (line) => console.error(line));
    console.log(formatSoak(report));
    if (o.json) console.log(JSON.stringify(report));
    return report.targets.lost_zero ? 0 : 1;
  });
}

runIfMain(import.meta.url, 'soak', main);

/**
 * `npm run bench [-- --quick] [-- --json]`: per-job overhead of the engine, side by
 * side with piscina in the same run, plus round-trip latency, heap growth per job, a
 * tinybench table of the hot-path calls and the A* benchmark. With --json the last
 * stdout line is one JSON object.
 *
 * The bench's engine has 4 workers whatever the machine, so its figures compare across
 * machines and with earlier runs; the frame budget is measured a second time with the
 * engine's default worker count (one fewer than the cores), which is what a game gets.
 *
 * Figures are ratios against a peer measured in the same process, because the machine
 * is shared: absolute numbers drift run to run.
 */
import { Bench } from 'tinybench';
import { Piscina } from 'piscina';
import { PerformanceObserver } from 'node:perf_hooks';
import { EngineCore } from '../engine/core.js';
import type { ResultView } from '../engine/api.js';
import { builtModuleUrl } from '../engine/paths.js';
import { FRAME_MS, sleep, yieldToEventLoop } from '../game/time.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from '../stress/modes/heavy.js';
import { bareRingThroughput } from './bare-ring.js';
import { engineThroughput, type Throughput } from './engine-throughput.js';
import { interleavedTiny } from './tiny-interleaved.js';
import { checkedRingThroughput } from './checked-ring.js';
import { DEFAULTS as STRESS_DEFAULTS } from '../stress/cli/args.js';
import { runBurst } from '../stress/modes/burst.js';
import { concurrentHandlerRate, perCoreHandlerRates } from './handler-rate.js';
import { interleavedBurst } from './burst-interleaved.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const json = args.has('--json');
const log = (...a: unknown[]): void => {
  if (!json) console.log(...a);
  else console.error(...a);
};

const gc = (globalThis as { gc?: () => void }).gc;

async function piscinaThroughput(seconds: number, threads: number): Promise<Throughput> {
  const pool = new Piscina({
    filename: builtModuleUrl(import.meta.url, './piscina-noop.js').href,
    name: 'noop',
    minThreads: threads,
    maxThreads: threads,
  });
  try {
    // Warm the threads up.
    await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.run({ a: i, b: 1 })));
    let done = 0;
    let checksum = 0;
    let submitted = 0;
    const window = 2000;
    const start = performance.now();
    const end = start + seconds * 1000;
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        while (submitted - done < window && performance.now() < end) {
          const a = submitted++;
          pool.run({ a, b: 1 }).then((v: number) => {
            done++;
            checksum += v - a - 1;
            if (done === submitted && performance.now() >= end) resolve();
            else pump();
          }, reject);
        }
      };
      pump();
    });
    const elapsed = (performance.now() - start) / 1000;
    if (checksum !== 0) throw new Error('piscina run returned wrong results');
    return { jobs: done, seconds: elapsed, perSecond: done / elapsed };
  } finally {
    await pool.destroy();
  }
}

/** One job at a time on an idle engine: submit, then poll until its result is back. */
function roundTrip(engine: EngineCore, samples: number): { p50: number; p99: number; max: number } {
  const NOOP = engine.kindId('noop');
  const p = new Float64Array([1, 2]);
  let got = 0;
  const sink = (): void => {
    got++;
  };
  const us = new Float64Array(samples);
  for (let i = -500; i < samples; i++) {
    const t0 = performance.now();
    const target = got + 1;
    engine.submit(NOOP, p);
    while (got < target) engine.poll(sink);
    if (i >= 0) us[i] = (performance.now() - t0) * 1000;
  }
  us.sort();
  return { p50: us[Math.floor(samples * 0.5)], p99: us[Math.floor(samples * 0.99)], max: us[samples - 1] };
}

/**
 * Bytes of heap per job over a run with no garbage collection in it: gc() first, then
 * heapUsed before and after. Any per-job allocation shows as growth (the young
 * generation is made large enough by the npm script that no scavenge hides it; a GC
 * during the run is detected and reported).
 */
async function heapPerJob(engine: EngineCore, jobs: number): Promise<{ bytesPerJob: number; gcDuringRun: number }> {
  const NOOP = engine.kindId('noop');
  const p = new Float64Array(2);
  // The harness keeps its count in a typed array: a captured `let` that changes is a
  // context slot, and the harness should add as little to the figure as it can.
  const count = new Int32Array(1);
  const sink = (): void => {
    count[0]++;
  };
  // Batches of 256 with at most 4096 in flight: the rings never fill, as in a game that
  // sizes its capacities for its load (a full ring makes every submit after each poll
  // read the clock afresh, which is the one thing here that allocates).
  const run = (n: number): void => {
    let s = 0;
    const first = count[0];
    const target = count[0] + n;
    while (s < n) {
      for (let b = 0; b < 256 && s < n; b++) {
        p[0] = s;
        p[1] = 1;
        if (engine.submit(NOOP, p) < 0) throw new Error('heap run: a submit was refused');
        s++;
      }
      do engine.poll(sink);
      while (s - (count[0] - first) > 4096 - 256);
    }
    while (count[0] < target) engine.poll(sink);
  };
  run(200_000); // warm-up: every path compiled, every table touched
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  gc?.();
  await sleep(10);
  gcs = 0;
  const before = process.memoryUsage().heapUsed;
  run(jobs);
  const after = process.memoryUsage().heapUsed;
  await sleep(10);
  obs.disconnect();
  return { bytesPerJob: (after - before) / jobs, gcDuringRun: gcs };
}

interface FrameBudget {
  jobsPerFrame: number;
  p50: number;
  p99: number;
  max: number;
  results: number;
  refused: number;
  /** Each round's p99, ms, in the order run. */
  roundP99: number[];
  /** The main thread's wake-ups of sleeping workers over the rounds (EngineStats.wakes). */
  wakes: number;
}

/**
 * The frame budget: a 30 Hz loop that submits `perFrame` COMPUTE_HEAVY jobs each frame
 * and polls their results, timing only the engine's calls (beginFrame, poll with a
 * trivial apply, submit) on the main thread. Frames are paced by a timer, as a game's are.
 * With several engines, they take turns in `rounds` rounds (each round starting with the
 * next one), so the machine's drift lands on all of them alike; each round ends once its
 * jobs are back, so the next starts on idle workers.
 */
async function frameBudget(engines: readonly EngineCore[], perFrame: number, frames: number, rounds = 1): Promise<FrameBudget[]> {
  // The first WARM frames of each engine compile the paths and are not counted.
  const WARM = 30;
  const p = new Float64Array([0, HEAVY_ITERATIONS]);
  const runs = engines.map((engine) => {
    const count = new Int32Array(2);
    const sum = new Float64Array(1);
    return {
      engine,
      heavy: engine.kindId(HEAVY_KIND),
      count,
      apply: (r: ResultView): void => {
        count[0]++;
        sum[0] += r.values[0];
      },
      ms: new Float64Array(frames),
      timed: 0,
      frame: 0,
      roundP99: [] as number[],
      wakes: 0,
    };
  });
  const perRound = Math.ceil(frames / rounds);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < runs.length; k++) {
      const run = runs[(k + round) % runs.length];
      const { engine, count, apply, ms } = run;
      const warm = run.frame === 0 ? WARM : 0;
      const first = run.timed;
      const wakes = engine.stats().wakes.count;
      const start = performance.now();
      for (let f = -warm; f < perRound && run.timed < frames; f++) {
        const t0 = performance.now();
        engine.beginFrame(run.frame);
        engine.poll(apply);
        for (let i = 0; i < perFrame; i++) {
          p[0] = run.frame * perFrame + i;
          if (engine.submit(run.heavy, p, i) < 0) count[1]++;
        }
        if (f >= 0) ms[run.timed++] = performance.now() - t0;
        run.frame++;
        await sleep(Math.max(0, start + (f + warm + 1) * FRAME_MS - performance.now()));
      }
      while (engine.inFlight > 0) {
        engine.poll(apply);
        await sleep(1);
      }
      run.wakes += engine.stats().wakes.count - wakes;
      const part = ms.slice(first, run.timed).sort();
      if (part.length > 0) run.roundP99.push(Number(part[Math.min(part.length - 1, Math.floor(part.length * 0.99))].toFixed(3)));
    }
  }
  return runs.map(({ ms, timed, count, roundP99, wakes }) => {
    const s = ms.slice(0, timed).sort();
    return { jobsPerFrame: perFrame, p50: s[Math.floor(timed * 0.5)], p99: s[Math.min(timed - 1, Math.floor(timed * 0.99))], max: s[timed - 1], results: count[0], refused: count[1], roundP99, wakes };
  });
}

/** A frame budget's figures as the JSON line gives them, ms to the microsecond. */
function frameJson(f: FrameBudget): { jobs_per_frame: number; p50: number; p99: number; max: number; refused: number } {
  return { jobs_per_frame: f.jobsPerFrame, p50: Number(f.p50.toFixed(3)), p99: Number(f.p99.toFixed(3)), max: Number(f.max.toFixed(3)), refused: f.refused };
}

/**
 * Main-thread cost per job on an inline engine (workers: 0, no other thread): batches of
 * submits and one poll per call, so tinybench's own timing of each call (about 0.3-0.6 us,
 * more than a job costs) is spread over the batch instead of counted per job.
 */
async function hotPathTable(): Promise<{ name: string; opsPerSec: number; meanNs: number; nsPerJob: number }[]> {
  const inline = await EngineCore.start({ workers: 0 });
  const NOOP = inline.kindId('noop');
  const p = new Float64Array([1, 2]);
  const sink = (): void => {};
  const bench = new Bench({ time: quick ? 300 : 1000, warmupTime: 100 });
  const batches = [64, 1024];
  for (const n of batches) {
    bench.add(`submit x${n} + poll, inline`, () => {
      for (let i = 0; i < n; i++) inline.submit(NOOP, p);
      inline.poll(sink);
    });
  }
  await bench.run();
  await inline.shutdown();
  return bench.tasks.map((t, i) => {
    const r = t.result as unknown as { throughput?: { mean: number }; latency?: { mean: number }; hz?: number; mean?: number };
    const meanMs = r.latency?.mean ?? r.mean ?? NaN;
    return { name: t.name, opsPerSec: Math.round(r.throughput?.mean ?? r.hz ?? 1000 / meanMs), meanNs: Math.round(meanMs * 1e6), nsPerJob: Number(((meanMs * 1e6) / batches[i]).toFixed(1)) };
  });
}

async function pathBench(): Promise<Record<string, number> | null> {
  try {
    const mod = (await import(builtModuleUrl(import.meta.url, './path-bench.js').href)) as {
      benchPath?: (o: { quick: boolean }) => Promise<Record<string, number>>;
    };
    return mod.benchPath ? await mod.benchPath({ quick }) : null;
  } catch (err) {
    log(`path benchmark unavailable: ${(err as Error).message}`);
    return null;
  }
}

async function main(): Promise<void> {
  const seconds = quick ? 1.5 : 4;
  const workers = 4;
  log(`framejobs bench${quick ? ' (quick)' : ''}: ${workers} workers, tiny jobs for ${seconds} s each side`);
  const engine = await EngineCore.start({ workers });
  let result: Record<string, unknown>;
  try {
    await engineThroughput(engine, 0.3);
    const eng = await engineThroughput(engine, seconds);
    log(`engine   ${Math.round(eng.perSecond).toLocaleString()} jobs/s (${eng.jobs.toLocaleString()} jobs)`);
    const pis = await piscinaThroughput(seconds, workers);
    log(`piscina  ${Math.round(pis.perSecond).toLocaleString()} jobs/s (${pis.jobs.toLocaleString()} jobs)`);
    // The engine again, so drift during the run shows up as a spread, not as a ratio.
    const eng2 = await engineThroughput(engine, seconds);
    const engineRate = Math.max(eng.perSecond, eng2.perSecond);
    const fast = eng.perSecond >= eng2.perSecond ? eng : eng2;
    log(`engine   ${Math.round(eng2.perSecond).toLocaleString()} jobs/s (second pass)`);
    log(`ratio    ${(engineRate / pis.perSecond).toFixed(1)}x`);
    log(
      `main thread in the faster pass: submit ${fast.submitNs.toFixed(0)} ns/job, poll ${fast.pollNs.toFixed(0)} ns/result, ${(fast.idleShare * 100).toFixed(1)} % of the run in polls that found nothing`,
    );
    const bare = await bareRingThroughput(seconds);
    log(`bare SAB ring (1 worker, batched, no accounting): ${Math.round(bare.perSecond).toLocaleString()} jobs/s; engine at ${(engineRate / bare.perSecond).toFixed(3)} of it`);
    const checked = await checkedRingThroughput(seconds);
    log(
      `checked ring (the bare ring plus validation, ids, a CAS claim, books and a callback per result): ${Math.round(checked.perSecond).toLocaleString()} jobs/s, ${(checked.perSecond / bare.perSecond).toFixed(3)} of the bare ring; engine at ${(engineRate / checked.perSecond).toFixed(3)} of it`,
    );
    // The engine with its default options against the bare ring, in turns, so the drift
    // between runs a few seconds apart does not land in the ratio.
    const tinyTurns = await interleavedTiny(quick ? 4 : 8, 500);
    log(
      `tiny jobs and the bare ring in turns (${tinyTurns.rounds} x 500 ms each, the engine's default ${tinyTurns.workers} worker(s)): ${Math.round(tinyTurns.enginePerS).toLocaleString()} against ${Math.round(tinyTurns.bareRingPerS).toLocaleString()} jobs/s, ${tinyTurns.ratio.toFixed(3)} (rounds ${tinyTurns.roundRatios.join(', ')}); submitMany ${Math.round(tinyTurns.manyPerS).toLocaleString()} jobs/s, ${tinyTurns.manyRatio.toFixed(3)}; submitBundle ${Math.round(tinyTurns.bundlePerS).toLocaleString()} jobs/s, ${tinyTurns.bundleRatio.toFixed(3)} (rounds ${tinyTurns.bundleRoundRatios.join(', ')}), ${(tinyTurns.bundlePerS / pis.perSecond).toFixed(1)}x piscina`,
    );
    const rt = roundTrip(engine, quick ? 3000 : 20000);
    log(`round trip, idle engine: p50 ${rt.p50.toFixed(1)} us, p99 ${rt.p99.toFixed(1)} us, max ${rt.max.toFixed(0)} us`);
    const heap = await heapPerJob(engine, quick ? 300_000 : 1_000_000);
    log(`heap per job after warm-up: ${heap.bytesPerJob.toFixed(3)} bytes (${heap.gcDuringRun} GCs during the run${gc ? '' : '; run with --expose-gc for a clean baseline'})`);
    // The same frames with frame pacing on, on as many workers, in turns with these.
    const paced = await EngineCore.start({ workers, framePacing: true });
    let fb: FrameBudget;
    let fbPaced: FrameBudget;
    try {
      [fb, fbPaced] = await frameBudget([engine, paced], 1000, quick ? 90 : 300, quick ? 1 : 3);
    } finally {
      await paced.shutdown();
    }
    for (const [label, f] of [['', fb], [', framePacing: true', fbPaced]] as const) {
      log(
        `frame budget, 1,000 COMPUTE_HEAVY jobs per 30 Hz frame${label}: engine main-thread time p50 ${f.p50.toFixed(3)} ms, p99 ${f.p99.toFixed(3)} ms, max ${f.max.toFixed(2)} ms (${f.refused} refused; rounds' p99 ${f.roundP99.join(', ')}; ${f.wakes} wake-ups of sleeping workers)`,
      );
    }
    const byDefault = await EngineCore.start({});
    const defaultWorkers = byDefault.workerCount;
    let fbDefault: FrameBudget;
    try {
      [fbDefault] = await frameBudget([byDefault], 1000, quick ? 90 : 300);
    } finally {
      await byDefault.shutdown();
    }
    log(`frame budget with the default ${defaultWorkers} worker(s): p50 ${fbDefault.p50.toFixed(3)} ms, p99 ${fbDefault.p99.toFixed(3)} ms, max ${fbDefault.max.toFixed(2)} ms (${fbDefault.refused} refused)`);
    // CPU-bound work against the machine's limit: the seed's burst (COMPUTE_HEAVY, as
    // `npm run stress` runs it, its default workers) and the handler alone x the cores.
    const burst = await runBurst({ seconds: quick ? 2 : 5, workers: STRESS_DEFAULTS.workers, seed: 1 });
    // The same burst with one worker per core: what more workers than cores cost.
    const cores = burst.limit!.cores;
    const burstPerCore = cores !== STRESS_DEFAULTS.workers ? await runBurst({ seconds: quick ? 2 : 5, workers: cores, seed: 1 }) : null;
    // The same handler on every core at once: what the cores give together; and on as
    // many bare threads as the burst's workers: what that many threads on these cores give.
    const together = await concurrentHandlerRate(burst.limit!.cores, 1);
    const sameThreads = cores !== STRESS_DEFAULTS.workers ? await concurrentHandlerRate(STRESS_DEFAULTS.workers, 1) : together;
    // And on each core alone: a slow core shows here, not in one thread's rate.
    const perCore = perCoreHandlerRates(burst.limit!.cores, 1);
    const coresSum = perCore ? perCore.reduce((a, b) => a + b, 0) : 0;
    log(
      `burst: ${Math.round(burst.throughputPerS).toLocaleString()} COMPUTE_HEAVY jobs/s on ${STRESS_DEFAULTS.workers} workers; the machine's limit ${Math.round(burst.limit!.limitPerS).toLocaleString()}/s: ${(burst.limit!.ratio * 100).toFixed(1)} %; the handler on all ${burst.limit!.cores} cores at once ${Math.round(together).toLocaleString()}/s: ${((burst.throughputPerS / together) * 100).toFixed(1)} %`,
    );
    log(
      `the handler on ${STRESS_DEFAULTS.workers} bare threads at once (no engine): ${Math.round(sameThreads).toLocaleString()}/s; the burst on ${STRESS_DEFAULTS.workers} workers is ${((burst.throughputPerS / sameThreads) * 100).toFixed(1)} % of that`,
    );
    if (burstPerCore) {
      log(
        `burst with one worker per core (${cores}): ${Math.round(burstPerCore.throughputPerS).toLocaleString()}/s, ${(burstPerCore.limit!.ratio * 100).toFixed(1)} % of its limit, ${((burstPerCore.throughputPerS / together) * 100).toFixed(1)} % of all cores at once`,
      );
    }
    if (perCore) {
      log(
        `the handler pinned to each core alone: ${perCore.map((r) => Math.round(r).toLocaleString()).join(', ')}/s, together ${Math.round(coresSum).toLocaleString()}/s; the burst is ${((burst.throughputPerS / coresSum) * 100).toFixed(1)} % of that`,
      );
    }
    // The burst and the limit again, in turns, so the cores' drift hits both alike.
    const turnRounds = quick ? 3 : 8;
    const inTurns = await interleavedBurst(STRESS_DEFAULTS.workers, turnRounds, 600, 200);
    const inTurnsPerCore = cores !== STRESS_DEFAULTS.workers ? await interleavedBurst(cores, turnRounds, 600, 200) : null;
    for (const t of inTurnsPerCore ? [inTurns, inTurnsPerCore] : [inTurns]) {
      log(
        `burst and limit in turns (${t.rounds} x 600 ms of burst on ${t.workers} workers, each followed by 200 ms of the handler alone): ${Math.round(t.burstPerS).toLocaleString()}/s against ${Math.round(t.limitPerS).toLocaleString()}/s, ${(t.ratio * 100).toFixed(1)} % (rounds ${t.roundRatios.join(', ')})`,
      );
    }
    const table = await hotPathTable();
    for (const t of table) log(`tinybench  ${t.name}: ${t.opsPerSec.toLocaleString()} ops/s, ${t.meanNs} ns mean, ${t.nsPerJob} ns per job`);
    const path = await pathBench();
    if (path) log(`path: ${JSON.stringify(path)}`);
    result = {
      tiny_jobs_per_s: {
        engine: Math.round(engineRate),
        piscina: Math.round(pis.perSecond),
        ratio: Number((engineRate / pis.perSecond).toFixed(1)),
        bare_ring: Math.round(bare.perSecond),
        ratio_to_bare_ring: Number((engineRate / bare.perSecond).toFixed(3)),
        checked_ring: Math.round(checked.perSecond),
        checked_ring_ratio_to_bare_ring: Number((checked.perSecond / bare.perSecond).toFixed(3)),
        ratio_to_checked_ring: Number((engineRate / checked.perSecond).toFixed(3)),
        main_thread: { submit_ns_per_job: Number(fast.submitNs.toFixed(1)), poll_ns_per_result: Number(fast.pollNs.toFixed(1)), idle_share: Number(fast.idleShare.toFixed(3)) },
        in_turns: {
          workers: tinyTurns.workers,
          rounds: tinyTurns.rounds,
          engine: Math.round(tinyTurns.enginePerS),
          bare_ring: Math.round(tinyTurns.bareRingPerS),
          ratio_to_bare_ring: Number(tinyTurns.ratio.toFixed(3)),
          round_ratios: tinyTurns.roundRatios,
          submit_many: Math.round(tinyTurns.manyPerS),
          submit_many_ratio_to_bare_ring: Number(tinyTurns.manyRatio.toFixed(3)),
          submit_bundle: Math.round(tinyTurns.bundlePerS),
          submit_bundle_ratio_to_bare_ring: Number(tinyTurns.bundleRatio.toFixed(3)),
          submit_bundle_round_ratios: tinyTurns.bundleRoundRatios,
          submit_bundle_ratio_to_piscina: Number((tinyTurns.bundlePerS / pis.perSecond).toFixed(1)),
        },
      },
      round_trip_us: { p50: Number(rt.p50.toFixed(2)), p99: Number(rt.p99.toFixed(2)), max: Number(rt.max.toFixed(1)) },
      heap_bytes_per_job: Number(heap.bytesPerJob.toFixed(3)),
      frame_budget_ms: { ...frameJson(fb), round_p99s: fb.roundP99, wakes: fb.wakes },
      frame_budget_paced_ms: { ...frameJson(fbPaced), round_p99s: fbPaced.roundP99, wakes: fbPaced.wakes, p99_ratio: Number((fbPaced.p99 / fb.p99).toFixed(3)) },
      frame_budget_default_workers_ms: { workers: defaultWorkers, ...frameJson(fbDefault) },
      gc_during_heap_run: heap.gcDuringRun,
      cpu_bound: {
        burst_per_s: Math.round(burst.throughputPerS),
        workers: STRESS_DEFAULTS.workers,
        limit_per_s: Math.round(burst.limit!.limitPerS),
        per_thread_per_s: Math.round(burst.limit!.perThreadPerS),
        ratio_to_limit: Number(burst.limit!.ratio.toFixed(3)),
        all_cores_at_once_per_s: Math.round(together),
        ratio_to_all_cores_at_once: Number((burst.throughputPerS / together).toFixed(3)),
        bare_threads_at_once: {
          threads: STRESS_DEFAULTS.workers,
          per_s: Math.round(sameThreads),
          ratio: Number((burst.throughputPerS / sameThreads).toFixed(3)),
        },
        ...(burstPerCore
          ? {
            one_worker_per_core: {
              workers: cores,
              burst_per_s: Math.round(burstPerCore.throughputPerS),
              ratio_to_limit: Number(burstPerCore.limit!.ratio.toFixed(3)),
              ratio_to_all_cores_at_once: Number((burstPerCore.throughputPerS / together).toFixed(3)),
            },
          }
          : {}),
        in_turns: {
          workers: inTurns.workers,
          burst_per_s: Math.round(inTurns.burstPerS),
          limit_per_s: Math.round(inTurns.limitPerS),
          ratio_to_limit: Number(inTurns.ratio.toFixed(3)),
          round_ratios: inTurns.roundRatios,
          ...(inTurnsPerCore ? { one_worker_per_core: { workers: inTurnsPerCore.workers, ratio_to_limit: Number(inTurnsPerCore.ratio.toFixed(3)), round_ratios: inTurnsPerCore.roundRatios } } : {}),
        },
        ...(perCore
          ? {
            per_core_per_s: perCore.map((r) => Math.round(r)),
            ratio_to_sum_of_cores: Number((burst.throughputPerS / coresSum).toFixed(3)),
          }
          : {}),
      },
      hot_path_ns_per_job: Object.fromEntries(table.map((t) => [t.name, t.nsPerJob])),
      ...(path ? { path } : {}),
      workers,
      quick,
    };
  } finally {
    await engine.shutdown();
  }
  if (json) console.log(JSON.stringify(result));
}

await main();

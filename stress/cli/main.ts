/**
 * `npm run stress -- [--mode burst|frame|chaos] [--seconds N] [--workers N] [--seed N]
 *                    [--json] [--vs piscina] [--html FILE] [--trace FILE]`
 *
 * Runs one stress mode, grades it, prints the report (colour on a TTY, plain when
 * piped, a progress bar on stderr while it runs). With --json the last stdout line is
 * one JSON object (see toJson). With --vs piscina the same burst workload runs
 * through piscina in the same process right after, and both are printed side by side
 * (burst only: parseArgs refuses --vs with another mode).
 * Exit code: 0 for grades A-D, 1 for F, 2 for bad options or a run that could not start.
 */
import { writeFileSync } from 'node:fs';
import type { EngineCore } from '../../engine/core.js';
import { EngineError } from '../../engine/errors.js';
import { runCli, runIfMain } from '../../game/cli-args.js';
import { USAGE, parseArgs, type StressOptions } from './args.js';
import { runBurst } from '../modes/burst.js';
import { grade, type GradeReport } from '../report/grade.js';
import { renderHtml } from '../report/html.js';
import { Progress, paletteFor, renderReport } from '../report/text.js';
import type { LatencySummary, StressResult } from '../report/result.js';
import { inFrames } from '../report/result.js';

const round = (n: number, d = 3): number => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);
const lat = (l: LatencySummary) => ({ avg: round(l.avg), p50: round(l.p50), p99: round(l.p99), max: round(l.max) });

/** The machine-readable summary: the fields the issue names first, then the detail. */
export function toJson(r: StressResult, g: GradeReport, peers: readonly StressResult[] = []): Record<string, unknown> {
  const base = (x: StressResult, gx: GradeReport) => ({
    mode: x.mode,
    grade: gx.grade,
    workers: { configured: x.workers.configured, alive: x.workers.alive, respawned: x.workers.respawned },
    jobs: {
      submitted: x.jobs.submitted,
      completed: x.jobs.completed,
      failed: x.jobs.failed,
      rejected: x.jobs.rejected,
      expired: x.jobs.expired,
      cancelled: x.jobs.cancelled,
      lost: x.jobs.lost,
      received: x.jobs.received,
      in_flight: x.jobs.inFlight,
      duplicates: x.jobs.duplicates,
    },
    throughput_per_s: round(x.throughputPerS, 1),
    latency_ms: lat(x.latencyMs),
    latency_frames: lat(inFrames(x.latencyMs)),
    ...(x.limit
      ? { machine_limit: { per_thread_per_s: round(x.limit.perThreadPerS, 0), cores: x.limit.cores, limit_per_s: round(x.limit.limitPerS, 0), ratio: round(x.limit.ratio, 3) } }
      : {}),
    engine: x.engine,
    status: gx.status,
    seed: x.seed,
    seconds: x.seconds,
    rejected_by_reason: x.rejectedByReason,
    failed_by_reason: x.failedByReason,
    unexpected_failed: x.unexpectedFailed,
    timing_s: { test: round(x.timing.testS), submit: round(x.timing.submitS), collect: round(x.timing.collectS) },
    ...(x.frames
      ? {
          frames: {
            count: x.frames.frames,
            overruns: x.frames.overruns,
            main_thread_ms: lat(x.frames.mainThreadMs),
            applied_after_frames: x.frames.appliedAfterFrames,
          },
        }
      : {}),
    ...(x.faults ? { faults: { ...x.faults, killed: x.workers.killed } } : {}),
    ...(x.byKind && x.byKind.length > 1
      ? { by_kind: Object.fromEntries(x.byKind.map((k) => [k.kind, { completed: k.completed, failed: k.failed, expired: k.expired, latency_ms: lat(k.latencyMs) }])) }
      : {}),
    issues: gx.issues.filter((i) => i.severity !== 'info').map((i) => i.text),
  });
  const out: Record<string, unknown> = base(r, g);
  if (peers.length > 0) {
    const vs: Record<string, unknown> = {};
    for (const p of peers) {
      const gp = grade(p);
      vs[p.engine] = {
        ...base(p, gp),
        ratio: {
          throughput: round(r.throughputPerS / p.throughputPerS, 2),
          p50_latency: round(p.latencyMs.p50 / r.latencyMs.p50, 2),
          p99_latency: round(p.latencyMs.p99 / r.latencyMs.p99, 2),
        },
      };
    }
    out.vs = vs;
  }
  return out;
}

export function main(argv: readonly string[]): Promise<number> {
  return runCli('stress', USAGE, argv, parseArgs, run);
}

async function run(o: StressOptions): Promise<number> {
  const bar = new Progress(process.stderr, o.mode);
  const onProgress = (fraction: number, now: number, detail: () => string): void => bar.update(fraction, now, detail);
  const traceFile = o.trace;
  const traceTo =
    traceFile === null
      ? undefined
      : (engine: EngineCore): void => {
          writeFileSync(traceFile, engine.exportTrace());
          process.stderr.write(`stress: wrote the job timeline to ${traceFile} (open it in ui.perfetto.dev or chrome://tracing)\n`);
        };
  let r: StressResult;
  const peers: StressResult[] = [];
  try {
    // Frame modes load the ready-made kinds (and Rapier), --vs loads piscina: only when asked
    // for, so the package's bin runs burst mode with neither installed.
    r =
      o.mode === 'burst'
        ? await runBurst({ ...o, onProgress, traceTo })
        : await (await import('../modes/frame.js')).runFrames({ ...o, chaos: o.mode === 'chaos', onProgress, traceTo });
    bar.done();
    for (const peer of o.vs) {
      const pb = new Progress(process.stderr, peer);
      if (peer === 'piscina') {
        const { runPiscinaBurst } = await import('../peers/piscina.js');
        peers.push(await runPiscinaBurst({ seconds: o.seconds, workers: o.workers, seed: o.seed, onProgress: (f, n, d) => pb.update(f, n, d) }));
      }
      pb.done();
    }
  } catch (e) {
    bar.done();
    const msg = e instanceof EngineError ? `${e.code}: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`stress: the run could not complete: ${msg}\n`);
    return 2;
  }
  const g = grade(r);
  process.stdout.write(renderReport(r, g, paletteFor(process.stdout), peers) + '\n');
  if (o.html !== null) {
    writeFileSync(o.html, renderHtml(r, g, peers));
    process.stderr.write(`stress: wrote ${o.html}\n`);
  }
  if (o.json) process.stdout.write(JSON.stringify(toJson(r, g, peers)) + '\n');
  return g.grade === 'F' ? 1 : 0;
}

runIfMain(import.meta.url, 'stress', main, 2);

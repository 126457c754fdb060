/**
 * The sweep coordinator: seed 004's exhaustive search applied to tuning the game's AI.
 * Every grid point is played by several seeded headless runs of the deterministic game
 * (one `sweep.evaluate` job each), on whatever backend runs tasks; the coordinator alone
 * writes files: one line per task, in task order, with nothing that depends on timing
 * or on the worker that ran it, so the file is byte-identical across worker counts,
 * backends and a crash followed by --resume.
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import type { SweepBackend } from './backend.js';
import { ResultWriter, fileSha256, type OpenedResults } from './checkpoint.js';
import { SweepPlan, type GridPoint } from './grid.js';
import { EVAL_RESULTS } from './kinds.js';
import { ProgressReporter, type ProgressStream } from './progress.js';

export interface SweepOptions {
  plan: SweepPlan;
  /** Started after the checkpoint is checked, so a refused one costs no worker start-up; closed at the end. */
  backend: () => Promise<SweepBackend>;
  out: string;
  resume: boolean;
  /** Commit lines and checkpoint at most this often, ms; 0: after every task. Default 100. */
  commitMs?: number;
  /** Default: backend workers x 2, at least 1. */
  maxInFlight?: number;
  progress?: ProgressStream | null;
  signal?: AbortSignal;
  /** Notes for people (a --resume that started over). */
  log?: (s: string) => void;
}

export interface PointSummary extends GridPoint {
  readonly point: number;
  readonly runs: number;
  readonly score: number;
  readonly goals: number;
  readonly threats: number;
  readonly path_jobs: number;
  readonly cells_per_goal: number;
}

export interface SweepSummary {
  readonly tasks: number;
  /** Tasks done, resumed ones included. */
  readonly completed: number;
  readonly failed: number;
  /** Tasks taken from the checkpoint. */
  readonly resumed: number;
  readonly result_sha256: string;
  /** Tasks this run computed, per second of its batch. */
  readonly tasks_per_s: number;
  readonly computed: number;
  readonly interrupted: boolean;
  readonly backend: string;
  readonly workers: number;
  readonly grid: string;
  readonly seed: number;
  readonly points: number;
  readonly out: string;
  readonly wall_s: number;
  readonly best: readonly PointSummary[];
}

const EVAL_KIND = 'sweep.evaluate';

/** Rounds for the file: the same bits give the same text; 3 decimals are plenty for a designer. */
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

/** One result line. Keys in a fixed order; nothing about time or threads. */
export function resultLine(plan: SweepPlan, i: number, status: 'done' | 'failed' | 'cancelled', values: ArrayLike<number>, reason: string | undefined): string {
  const runs = plan.grid.runs;
  const run = i % runs;
  const point = Math.floor(i / runs);
  const pt = plan.point(point);
  const head =
    `{"task":${i},"point":${point},"run":${run},"level":${plan.level(run)},"seed":${plan.runSeed(run)},` +
    `"replan_frames":${pt.replanFrames},"speed":${pt.speed},"goal_radius":${pt.goalRadius},"predict_steps":${pt.predictSteps},`;
  if (status !== 'done') return head + `"status":"failed","reason":${JSON.stringify(reason ?? status)}}`;
  let s = head + `"status":"done"`;
  for (let k = 0; k < EVAL_RESULTS.length; k++) {
    const name = EVAL_RESULTS[k];
    const v = values[k];
    if (name === 'state_hash') s += `,"state_hash":"${(v >>> 0).toString(16).padStart(8, '0')}"`;
    else s += `,"${name}":${r3(v)}`;
  }
  return s + '}';
}

/**
 * A designer's example weighting: goals reached, less a quarter point per agent under a
 * predicted impact and a twentieth per path job (the AI's cost). Every column is in the
 * file for other weightings.
 */
export const scoreOf = (goals: number, threats: number, pathJobs: number): number => goals - 0.25 * threats - 0.05 * pathJobs;

/** Ranks the grid points from the result file (resumed lines included). */
export function rankPoints(plan: SweepPlan, path: string, top: number): PointSummary[] {
  const acc = new Map<number, { runs: number; goals: number; threats: number; jobs: number; walked: number }>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line) as Record<string, number | string>;
    if (o.status !== 'done') continue;
    const p = o.point as number;
    const a = acc.get(p) ?? { runs: 0, goals: 0, threats: 0, jobs: 0, walked: 0 };
    a.runs++;
    a.goals += o.goals as number;
    a.threats += o.threats as number;
    a.jobs += o.path_jobs as number;
    a.walked += o.walked as number;
    acc.set(p, a);
  }
  const rows: PointSummary[] = [];
  for (const [p, a] of acc) {
    const goals = a.goals / a.runs, threats = a.threats / a.runs, jobs = a.jobs / a.runs;
    rows.push({
      point: p, ...plan.point(p), runs: a.runs, score: r3(scoreOf(goals, threats, jobs)), goals: r3(goals), threats: r3(threats), path_jobs: r3(jobs),
      cells_per_goal: a.goals > 0 ? r3(a.walked / a.goals) : 0,
    });
  }
  rows.sort((x, y) => y.score - x.score || x.point - y.point);
  return rows.slice(0, top);
}

export const defaultWorkers = (): number => availableParallelism();

export async function runSweep(o: SweepOptions): Promise<SweepSummary> {
  const t0 = performance.now();
  const plan = o.plan;
  const opened: OpenedResults = ResultWriter.open(o.out, { hash: plan.hash, grid: plan.grid.name, seed: plan.seed, tasks: plan.tasks }, o.resume);
  if (opened.note) o.log?.(opened.note);
  const w = opened.writer;
  const commitMs = o.commitMs ?? 100;
  const progress = o.progress ? new ProgressReporter(o.progress, plan.tasks, opened.resumed) : null;
  let computed = 0;
  let lastCommit = performance.now();
  let batchMs = 0;
  let interrupted = false;
  let backend: SweepBackend | null = null;
  // Lines appended within commitMs of the last commit wait for the next one; when no
  // result comes to make it (a burst, then tasks that take minutes), this timer does, so
  // a kill loses at most commitMs of finished work.
  let commitTimer: ReturnType<typeof setTimeout> | null = null;
  const commitLater = (): void => {
    commitTimer = null;
    if (w.pendingLines > 0) {
      w.commit();
      lastCommit = performance.now();
    }
  };
  try {
    const startAt = opened.resumed;
    if (startAt < plan.tasks) {
      backend = await o.backend();
      const tb = performance.now();
      let expect = startAt;
      const summary = await backend.runBatch({
        tasks: { count: plan.tasks, at: (i) => ({ kind: EVAL_KIND, params: plan.params(i) }) },
        maxInFlight: o.maxInFlight ?? Math.max(1, backend.workers * 2),
        skip: (i) => i < startAt,
        signal: o.signal,
        onResult: (i, r) => {
          // Lines are committed in task order and only up to the first task that did not
          // run (an abort): the file is always a prefix of the uninterrupted run's.
          if (r.status === 'cancelled' || i !== expect) return;
          expect++;
          computed++;
          w.append(resultLine(plan, i, r.status, r.values, r.reason), r.status === 'done');
          const now = performance.now();
          if (commitMs === 0 || now - lastCommit >= commitMs) {
            w.commit();
            lastCommit = now;
          } else if (commitTimer === null) {
            commitTimer = setTimeout(commitLater, commitMs - (now - lastCommit));
          }
        },
        onProgress: progress ? (p) => progress.update(p.completed, p.ratePerS, p.etaS) : undefined,
      });
      batchMs = performance.now() - tb;
      interrupted = summary.aborted || w.committedLines + w.pendingLines < plan.tasks;
      progress?.update(computed, batchMs > 0 ? (computed * 1000) / batchMs : 0, 0, true);
    } else {
      progress?.update(0, 0, 0, true);
    }
    w.commit();
  } finally {
    if (commitTimer !== null) clearTimeout(commitTimer);
    progress?.close();
    w.close();
    await backend?.close();
  }
  const failed = countFailed(o.out);
  const lines = w.committedLines;
  return {
    tasks: plan.tasks,
    completed: lines - failed,
    failed,
    resumed: opened.resumed,
    result_sha256: fileSha256(o.out),
    tasks_per_s: batchMs > 0 ? Math.round((computed * 1000 * 100) / batchMs) / 100 : 0,
    computed,
    interrupted,
    backend: backend?.name ?? 'none',
    workers: backend?.workers ?? 0,
    grid: plan.grid.name,
    seed: plan.seed,
    points: plan.points,
    out: o.out,
    wall_s: Math.round(performance.now() - t0) / 1000,
    best: interrupted ? [] : rankPoints(plan, o.out, 3),
  };
}

function countFailed(path: string): number {
  let n = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) if (line.includes('"status":"failed"')) n++;
  return n;
}

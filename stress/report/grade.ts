/**
 * Grading a stress run, A to F. The criteria are data (GRADE_RULES) so the README,
 * the report and the tests all quote the same table; `gradeCriteriaMarkdown()`
 * renders it. A run gets the first grade whose every criterion holds; F is what is
 * left, and any lost job is always F.
 */
import type { StressResult } from './result.js';
import { FRAME_MS } from '../../game/time.js';

export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

/** The numbers the criteria test, derived once from a result by `gradeMetrics`. */
export interface GradeMetrics {
  /** Jobs neither finished, refused nor still in flight, plus duplicate deliveries. */
  readonly lost: number;
  /** Workers configured but not alive at the end (a killed worker that was respawned is alive). */
  readonly workersDown: number;
  /** Failures no injected fault explains. */
  readonly unexpectedFailed: number;
  /** Unexpected failures as a percentage of accepted jobs. */
  readonly unexpectedFailedPct: number;
  /** p99 latency of completed jobs, in frames of 33.3 ms. */
  readonly p99Frames: number;
  readonly completed: number;
  /** Workers alive at the end, as a percentage of configured (100 with workers: 0). */
  readonly workersAlivePct: number;
  /**
   * Frame and chaos modes: the game's own submits refused, as a percentage (malformed
   * submits chaos makes on purpose excluded). Burst refuses by design: always 0 there.
   */
  readonly refusedPct: number;
}

export type MetricName = keyof GradeMetrics;

export interface Criterion {
  readonly metric: MetricName;
  readonly op: '<=' | '>=';
  readonly value: number;
  /** How the README and report state it. */
  readonly text: string;
}

export interface GradeRule {
  readonly grade: Exclude<Grade, 'F'>;
  readonly status: string;
  readonly criteria: readonly Criterion[];
}

const NOTHING_LOST: Criterion = { metric: 'lost', op: '<=', value: 0, text: 'no job lost (every submitted job has exactly one outcome)' };
const SOMETHING_DONE: Criterion = { metric: 'completed', op: '>=', value: 1, text: 'at least one job completed' };

/** A and B: nothing lost, every worker up, no unexplained failure; they differ in latency and refusals. */
function healthy(p99Frames: number, refusedPct: number): Criterion[] {
  return [
    NOTHING_LOST,
    SOMETHING_DONE,
    { metric: 'workersDown', op: '<=', value: 0, text: 'all workers alive at the end, killed or hung ones respawned' },
    { metric: 'unexpectedFailed', op: '<=', value: 0, text: 'no failure except those injected faults cause' },
    { metric: 'p99Frames', op: '<=', value: p99Frames, text: `p99 latency of accepted jobs within ${p99Frames} frames (${(p99Frames * FRAME_MS).toFixed(1)} ms)` },
    { metric: 'refusedPct', op: '<=', value: refusedPct, text: `frame and chaos modes: at most ${refusedPct} % of the game's submits refused` },
  ];
}

/** Checked in order; the first rule whose criteria all hold gives the grade. */
export const GRADE_RULES: readonly GradeRule[] = [
  { grade: 'A', status: 'EXCELLENT', criteria: healthy(2, 1) },
  { grade: 'B', status: 'GOOD', criteria: healthy(4, 5) },
  {
    grade: 'C',
    status: 'USABLE',
    criteria: [
      NOTHING_LOST,
      SOMETHING_DONE,
      { metric: 'workersAlivePct', op: '>=', value: 50, text: 'at least half the workers alive at the end' },
      { metric: 'unexpectedFailedPct', op: '<=', value: 1, text: 'unexpected failures at most 1 % of accepted jobs' },
      { metric: 'p99Frames', op: '<=', value: 30, text: 'p99 latency of accepted jobs within 30 frames (1 s)' },
    ],
  },
  {
    grade: 'D',
    status: 'POOR',
    criteria: [NOTHING_LOST, SOMETHING_DONE],
  },
];

export const F_TEXT = 'any job lost, or no job completed';

export function gradeMetrics(r: StressResult): GradeMetrics {
  const accepted = r.jobs.submitted - r.jobs.rejected;
  const configured = r.workers.configured;
  return {
    // More outcomes than submits (negative lost) is as much an accounting bug as fewer.
    lost: Math.abs(r.jobs.lost) + r.jobs.duplicates,
    workersDown: Math.max(0, configured - r.workers.alive),
    unexpectedFailed: r.unexpectedFailed,
    unexpectedFailedPct: accepted > 0 ? (100 * r.unexpectedFailed) / accepted : 0,
    p99Frames: r.latencyMs.p99 / FRAME_MS,
    completed: r.jobs.completed,
    workersAlivePct: configured > 0 ? (100 * r.workers.alive) / configured : 100,
    refusedPct: refusedPct(r),
  };
}

function refusedPct(r: StressResult): number {
  if (r.mode === 'burst') return 0;
  const onPurpose = r.faults ? r.faults.malformed : 0;
  const refusedOnPurpose = r.faults ? r.faults.malformedRejected : 0;
  const submits = r.jobs.submitted - onPurpose;
  return submits > 0 ? (100 * (r.jobs.rejected - refusedOnPurpose)) / submits : 0;
}

export function holds(c: Criterion, m: GradeMetrics): boolean {
  const v = m[c.metric];
  return c.op === '<=' ? v <= c.value : v >= c.value;
}

export type Severity = 'info' | 'warn' | 'fail';

export interface Issue {
  readonly severity: Severity;
  readonly text: string;
}

export interface GradeReport {
  readonly grade: Grade;
  readonly status: string;
  readonly metrics: GradeMetrics;
  /** Criteria of the next better grade that this run missed (empty for A). */
  readonly missed: readonly Criterion[];
  readonly issues: readonly Issue[];
  readonly verdict: readonly string[];
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function grade(r: StressResult): GradeReport {
  const m = gradeMetrics(r);
  let g: Grade = 'F';
  let status = 'BROKEN';
  let missed: readonly Criterion[] = [];
  for (const rule of GRADE_RULES) {
    const failing = rule.criteria.filter((c) => !holds(c, m));
    if (failing.length === 0) {
      g = rule.grade;
      status = rule.status;
      break;
    }
    if (missed.length === 0) missed = failing;
  }
  if (g === 'A') missed = [];
  return { grade: g, status, metrics: m, missed, issues: findIssues(r, m), verdict: verdictFor(g) };
}

function findIssues(r: StressResult, m: GradeMetrics): Issue[] {
  const out: Issue[] = [];
  const j = r.jobs;
  if (j.lost !== 0) out.push({ severity: 'fail', text: `${fmt(j.lost)} job(s) lost: submitted ${fmt(j.submitted)} but outcomes + in flight do not add up` });
  if (j.duplicates > 0) out.push({ severity: 'fail', text: `${fmt(j.duplicates)} result(s) delivered twice for one job` });
  if (m.completed === 0) out.push({ severity: 'fail', text: 'no job completed' });
  if (m.workersDown > 0) out.push({ severity: 'warn', text: `${m.workersDown} of ${r.workers.configured} worker(s) not alive at the end` });
  if (r.unexpectedFailed > 0) {
    const reasons = Object.entries(r.failedByReason).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ');
    out.push({ severity: 'warn', text: `${fmt(r.unexpectedFailed)} unexpected failure(s) (${reasons})` });
  }
  if (m.p99Frames > 2) {
    out.push({ severity: 'warn', text: `p99 latency ${r.latencyMs.p99.toFixed(1)} ms is ${m.p99Frames.toFixed(1)} frames, over the 2-frame budget` });
  }
  const refusedOnPurpose = r.faults ? r.faults.malformedRejected : 0;
  if (j.rejected - refusedOnPurpose > 0) {
    const reasons = Object.entries(r.rejectedByReason).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ');
    if (r.mode === 'burst') {
      out.push({ severity: 'info', text: `${fmt(j.rejected)} submit(s) refused at once, with a reason (${reasons}): admission control shed the excess instead of queueing it` });
    } else {
      const sev: Severity = m.refusedPct > 1 ? 'warn' : 'info';
      out.push({ severity: sev, text: `${fmt(j.rejected - refusedOnPurpose)} of the game's submits (${m.refusedPct.toFixed(1)} %) refused at once, with a reason (all refusals: ${reasons})` });
    }
  }
  if (j.expired > 0) out.push({ severity: 'info', text: `${fmt(j.expired)} job(s) expired past their deadline frame without running` });
  if (r.faults) {
    const f = r.faults;
    out.push({ severity: 'info', text: `faults injected: ${f.kills} kill(s), ${f.hangs} hang(s), ${f.throws} throw(s), ${f.malformed} malformed submit(s), ${f.malformedRejected} of them refused` });
    if (f.malformedRejected !== f.malformed) {
      out.push({ severity: 'warn', text: `${f.malformed - f.malformedRejected} malformed submit(s) were accepted instead of refused` });
    }
    if (f.kills + f.hangs > 0 && r.workers.respawned < f.kills) {
      out.push({ severity: 'warn', text: `${f.kills} kill(s) but only ${r.workers.respawned} respawn(s)` });
    }
  }
  if (r.frames && r.frames.overruns > 0) {
    out.push({ severity: 'warn', text: `${r.frames.overruns} of ${r.frames.frames} frame(s) overran the ${FRAME_MS.toFixed(1)} ms frame on the main thread` });
  }
  for (const n of r.notes) out.push({ severity: 'info', text: n });
  return out;
}

function verdictFor(g: Grade): string[] {
  switch (g) {
    case 'A':
      return ['Engine holds the frame budget under this load', 'Nothing lost; every fault recovered'];
    case 'B':
      return ['Engine is functional and nothing was lost', 'Latency is above the 2-frame budget but within 4 frames'];
    case 'C':
      return ['Engine is functional and nothing was lost', 'Latency or failures are too high for a 30 Hz loop (see issues)'];
    case 'D':
      return ['Nothing was lost, but the engine is not fit for a frame loop under this load (see issues)'];
    case 'F':
      return ['Engine failed: jobs were lost or nothing completed'];
  }
}

/** The criteria table as Markdown, for the README. */
export function gradeCriteriaMarkdown(): string {
  const lines = ['| grade | status | every one of |', '|---|---|---|'];
  for (const rule of GRADE_RULES) {
    lines.push(`| ${rule.grade} | ${rule.status} | ${rule.criteria.map((c) => c.text).join('; ')} |`);
  }
  lines.push(`| F | BROKEN | ${F_TEXT} |`);
  return lines.join('\n');
}

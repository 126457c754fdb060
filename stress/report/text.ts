/**
 * The terminal report: the seed's graded layout, with every outcome counted, latency in
 * ms and in frames, the reasons behind rejections and failures, and peers side by side.
 * Colour only when the stream is a TTY and NO_COLOR is unset; a progress bar (on
 * stderr) only when stderr is a TTY, so piped output stays plain and parseable.
 */
import type { GradeReport, Severity } from './grade.js';
import type { LatencySummary, StressResult } from './result.js';
import { FRAME_MS } from '../../game/time.js';
import { inFrames } from './result.js';

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  good(s: string): string;
  warn(s: string): string;
  bad(s: string): string;
}

const wrap = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const COLOR: Palette = { bold: wrap('1'), dim: wrap('2'), good: wrap('32'), warn: wrap('33'), bad: wrap('31') };
const id = (s: string): string => s;
export const PLAIN: Palette = { bold: id, dim: id, good: id, warn: id, bad: id };

/** Colour for a stream: only a TTY, and never when NO_COLOR is set (https://no-color.org). */
export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Palette {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') ? COLOR : PLAIN;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (n: number, of: number): string => (of > 0 ? `${((100 * n) / of).toFixed(1)} %` : '-');
const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - visible(s).length));
const lpad = (s: string, n: number): string => ' '.repeat(Math.max(0, n - visible(s).length)) + s;
// eslint-disable-next-line no-control-regex
const visible = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

const RULE = '='.repeat(74);

function gradeColor(p: Palette, g: string): (s: string) => string {
  return g === 'A' || g === 'B' ? p.good : g === 'C' || g === 'D' ? p.warn : p.bad;
}

function mark(p: Palette, sev: Severity): string {
  return sev === 'fail' ? p.bad('✗') : sev === 'warn' ? p.warn('⚠') : p.dim('•');
}

function reasons(byReason: Readonly<Record<string, number>>): string {
  const parts = Object.entries(byReason)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${int(v)}`);
  return parts.length > 0 ? `(${parts.join(', ')})` : '';
}

function latencyRows(p: Palette, l: LatencySummary): string[] {
  const f = inFrames(l);
  const head = `    ${pad('Latency', 14)}${['avg', 'p50', 'p99', 'max'].map((h) => lpad(h, 10)).join('')}`;
  const row = (label: string, s: LatencySummary, d: (n: number) => string) =>
    `    ${pad(label, 14)}${[s.avg, s.p50, s.p99, s.max].map((v) => lpad(d(v), 10)).join('')}`;
  const p99 = f.p99 <= 2 ? p.good : f.p99 <= 4 ? p.warn : p.bad;
  const frames = row('  frames', f, (v) => v.toFixed(2));
  return [p.dim(head), row('  ms', l, ms), frames.replace(lpad(f.p99.toFixed(2), 10), p99(lpad(f.p99.toFixed(2), 10)))];
}

/** The full report for one run, with optional peer runs of the same workload. */
export function renderReport(r: StressResult, g: GradeReport, p: Palette, peers: readonly StressResult[] = []): string {
  const out: string[] = [];
  const gc = gradeColor(p, g.grade);
  const j = r.jobs;
  const accepted = j.submitted - j.rejected;
  out.push(RULE);
  out.push(`  ${p.bold(`${r.engine.toUpperCase()} STRESS TEST`)} ${p.dim(`(${r.mode}, ${r.seconds} s, ${r.workers.configured} workers, seed ${r.seed})`)}  GRADE: ${p.bold(gc(g.grade))}`);
  out.push(RULE);
  out.push(`  Status: ${gc(g.status)}`);
  out.push('');
  out.push(p.bold('  WORKERS'));
  const alive = `${r.workers.alive}/${r.workers.configured}`;
  out.push(`    Alive:        ${r.workers.alive === r.workers.configured ? p.good(alive) : p.bad(alive)}   ${p.dim(`respawned ${r.workers.respawned}, killed on purpose ${r.workers.killed}`)}`);
  out.push('');
  out.push(p.bold('  JOBS'));
  const line = (label: string, n: number, extra = '', color: (s: string) => string = id) =>
    out.push(`    ${pad(label + ':', 14)}${color(lpad(int(n), 12))}  ${p.dim(extra)}`);
  line('Submitted', j.submitted);
  line('Accepted', accepted, pct(accepted, j.submitted) + ' of submitted');
  line('Received', j.received, pct(j.received, accepted) + ' of accepted');
  line('Completed', j.completed, '', p.good);
  line('Failed', j.failed, reasons(r.failedByReason) + (r.unexpectedFailed > 0 ? ` ${r.unexpectedFailed} unexpected` : ''), r.unexpectedFailed > 0 ? p.bad : id);
  line('Rejected', j.rejected, reasons(r.rejectedByReason));
  line('Expired', j.expired);
  line('Cancelled', j.cancelled);
  line('In flight', j.inFlight, 'at the end');
  line('Lost', j.lost, j.duplicates > 0 ? `${j.duplicates} duplicate(s)` : '', j.lost === 0 && j.duplicates === 0 ? p.good : p.bad);
  out.push('');
  out.push(p.bold('  PERFORMANCE'));
  out.push(`    ${pad('Throughput:', 14)}${lpad(int(r.throughputPerS), 12)}  ${p.dim('jobs/s completed')}`);
  if (r.limit) {
    const l = r.limit;
    out.push(
      `    ${pad('Machine limit:', 14)}${lpad(int(l.limitPerS), 12)}  ${p.dim(`jobs/s (the handler alone, ${int(l.perThreadPerS)}/s on one thread, x ${l.cores} cores): this run did ${(l.ratio * 100).toFixed(1)} % of it`)}`,
    );
  }
  out.push(...latencyRows(p, r.latencyMs));
  out.push(p.dim(`    (submit to the poll that delivered the result; completed jobs; 1 frame = ${FRAME_MS.toFixed(1)} ms)`));
  if (r.frames) {
    const f = r.frames;
    const total = f.appliedAfterFrames.reduce((a, b) => a + b, 0);
    out.push('');
    out.push(p.bold('  FRAMES (30 Hz)'));
    out.push(`    ${pad('Frames:', 14)}${lpad(int(f.frames), 12)}  ${p.dim(`${f.overruns} overran the frame`)}`);
    out.push(`    ${pad('Main thread:', 14)}${lpad(ms(f.mainThreadMs.avg), 12)}  ${p.dim(`ms/frame avg, p99 ${ms(f.mainThreadMs.p99)}, max ${ms(f.mainThreadMs.max)} (submit + poll + apply)`)}`);
    const labels = ['same frame', '+1 frame', '+2 frames', '+3 or later'];
    out.push(`    Applied:      ${f.appliedAfterFrames.map((n, i) => `${labels[i]} ${pct(n, total)}`).join(p.dim(' | '))}`);
  }
  if (r.byKind && r.byKind.length > 1) {
    out.push('');
    out.push(p.bold('  BY KIND'));
    out.push(p.dim(`    ${pad('kind', 20)}${['completed', 'failed', 'expired', 'p50 ms', 'p99 ms', 'max ms'].map((h) => lpad(h, 11)).join('')}`));
    for (const k of r.byKind) {
      const l = k.latencyMs;
      const p99 = l.p99 <= 2 * FRAME_MS ? id : p.warn;
      out.push(`    ${pad(k.kind, 20)}${[int(k.completed), int(k.failed), int(k.expired), ms(l.p50)].map((v) => lpad(v, 11)).join('')}${p99(lpad(ms(l.p99), 11))}${lpad(ms(l.max), 11)}`);
    }
  }
  if (r.faults) {
    const f = r.faults;
    out.push('');
    out.push(p.bold('  FAULTS INJECTED'));
    out.push(`    Kills ${f.kills}, hangs ${f.hangs}, throws ${int(f.throws)}, malformed ${int(f.malformed)} (refused ${int(f.malformedRejected)})`);
  }
  out.push('');
  out.push(p.bold('  TIMING'));
  out.push(`    Test:    ${r.timing.testS.toFixed(2)} s    Submit: ${r.timing.submitS.toFixed(2)} s    Collect: ${r.timing.collectS.toFixed(2)} s`);
  if (peers.length > 0) {
    out.push('');
    out.push(...renderSideBySide(r, peers, p));
  }
  out.push('');
  out.push(p.bold('  ISSUES'));
  if (g.issues.length === 0) out.push(`    ${p.good('none')}`);
  for (const i of g.issues) out.push(`    ${mark(p, i.severity)} ${i.text}`);
  if (g.missed.length > 0) {
    out.push('');
    out.push(p.bold('  WHAT THE NEXT GRADE NEEDS'));
    for (const c of g.missed) out.push(`    ${p.warn('✗')} ${c.text}`);
  }
  out.push('');
  out.push(p.bold('  VERDICT'));
  for (const v of g.verdict) out.push(`    ${gc(g.grade <= 'B' ? '✓' : g.grade === 'F' ? '✗' : '⚠')} ${v}`);
  out.push(RULE);
  return out.join('\n');
}

/** Columns of the same workload through each engine, with ratios against the first. */
export function renderSideBySide(r: StressResult, peers: readonly StressResult[], p: Palette): string[] {
  const cols = [r, ...peers];
  const w = 14;
  const out: string[] = [];
  const head = `    ${pad('', 22)}${cols.map((c) => lpad(c.engine, w)).join('')}${peers.map((c) => lpad(`vs ${c.engine}`, w + 2)).join('')}`;
  out.push(p.bold(`  SIDE BY SIDE (${r.mode}, same run, ${r.workers.configured} workers each)`));
  out.push(p.dim(head));
  const row = (label: string, get: (c: StressResult) => number, fmtv: (n: number) => string, higherIsBetter: boolean | null) => {
    const ours = get(r);
    const ratios = peers.map((c) => {
      const theirs = get(c);
      if (higherIsBetter === null) return lpad('', w + 2);
      // How many times better ours is; below 1 it is printed the other way round.
      const better = higherIsBetter ? ours / theirs : theirs / ours;
      if (!(theirs > 0 && ours > 0 && Number.isFinite(better))) return lpad('-', w + 2);
      const x = better >= 1 ? better : 1 / better;
      const word = higherIsBetter ? (better >= 1 ? 'more' : 'less') : better >= 1 ? 'lower' : 'higher';
      const text = `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}x ${word}`;
      return lpad(better >= 1 ? p.good(text) : p.warn(text), w + 2);
    });
    out.push(`    ${pad(label, 22)}${cols.map((c) => lpad(fmtv(get(c)), w)).join('')}${ratios.join('')}`);
  };
  row('Throughput (jobs/s)', (c) => c.throughputPerS, int, true);
  row('Latency p50 (ms)', (c) => c.latencyMs.p50, ms, false);
  row('Latency p99 (ms)', (c) => c.latencyMs.p99, ms, false);
  row('Latency max (ms)', (c) => c.latencyMs.max, ms, false);
  row('Completed', (c) => c.jobs.completed, int, null);
  row('Rejected', (c) => c.jobs.rejected, int, null);
  row('Lost', (c) => c.jobs.lost, int, null);
  return out;
}

/**
 * A one-line progress bar on a TTY stream (stderr), redrawn at most every 100 ms.
 * Does nothing on a pipe. Main thread only.
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: { isTTY?: boolean; write(s: string): unknown; columns?: number },
    private readonly label: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.enabled = stream.isTTY === true && env.CI === undefined;
  }

  /** fraction in [0, 1]; `detail` is built only when a redraw is due. */
  update(fraction: number, now: number, detail: () => string): void {
    if (!this.enabled || now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const width = 28;
    const f = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(f * width);
    const text = `\r  ${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${lpad(String(Math.round(f * 100)), 3)}%  ${detail()}`;
    const cols = this.stream.columns ?? 120;
    this.stream.write(text.slice(0, cols - 1) + '\x1b[K');
  }

  /** Clears the bar so the report starts on a clean line. */
  done(): void {
    if (this.enabled && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}

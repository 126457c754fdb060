/**
 * The panel's Quick Test: three seconds of frame-paced work through the public API,
 * every job verified, ending in one clear line, like the seed engine's quick test
 * ("Engine working"). Each frame it submits `noop` jobs (result a + b) and `compute-heavy`
 * jobs (checksum recomputed here with the very same handler), then checks that every
 * accepted job came back exactly once, done, with the right value, and that every worker
 * is alive at the end.
 *
 * It runs in the browser panel and, unchanged, under Node in the tests.
 * Threads: the engine's thread only.
 */
import type { ResultView } from '../engine/api.js';
import { computeHeavyKind } from '../engine/builtin-kinds.js';
import { Outcome, outcomeName, rejectionName } from '../engine/outcome.js';
import type { FrameClient, PanelEngine } from './clients.js';
import { HEAVY_ITERATIONS, HEAVY_KIND } from '../stress/modes/heavy.js';
import { CLIENT_QUICK, clientTag } from './clients.js';

export interface QuickTestOptions {
  /** Length of the submit phase, ms. Default 3000. */
  durationMs?: number;
  /** noop jobs per frame. Default 24. */
  noopPerFrame?: number;
  /** compute-heavy jobs per frame (10 iterations each, as in the seed). Default 6. */
  heavyPerFrame?: number;
  /** How long to wait for outstanding results after the submit phase, ms. Default 3000. */
  collectMs?: number;
}

export interface QuickTestReport {
  readonly ok: boolean;
  /** One line: starts with `ok: engine working` or with `FAILED:`. */
  readonly headline: string;
  /** The full text shown in the panel (headline first). */
  readonly text: string;
  readonly submitted: number;
  readonly verified: number;
  readonly wrong: number;
  readonly failed: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly workersAlive: number;
  readonly workerCount: number;
  /** Frames between submit and delivery: p50, p99, max. */
  readonly frames: { readonly p50: number; readonly p99: number; readonly max: number };
}

const K_NOOP = 1;
const K_HEAVY = 2;
const fmt = (n: number): string => n.toLocaleString('en-US');

/** One quick test run. Create, drive with onFrame each frame until `done`, then read report(). */
export class QuickTest implements FrameClient {
  private readonly durationMs: number;
  private readonly collectMs: number;
  private readonly noopPerFrame: number;
  private readonly heavyPerFrame: number;
  private readonly capacity: number;
  private readonly expected: Float64Array;
  private readonly kindOf: Uint8Array;
  /** 0 not accepted, 1 accepted and waiting, 2 received. */
  private readonly seen: Uint8Array;
  private readonly lagFrames: Int32Array;
  private readonly params = new Float64Array(2);
  private readonly out = new Float64Array(1);
  private next = 0;
  private received = 0;
  private accepted = 0;
  private verified = 0;
  private wrong = 0;
  private failed = 0;
  private duplicates = 0;
  private rejected = 0;
  private readonly rejectedBy: Record<string, number> = {};
  private readonly problems: string[] = [];
  private startMs = -1;
  private collectUntil = -1;
  private engine: PanelEngine | null = null;
  private noopId = -1;
  private heavyId = -1;
  private finished = false;
  private result: QuickTestReport | null = null;

  constructor(opts: QuickTestOptions = {}) {
    this.durationMs = opts.durationMs ?? 3000;
    this.collectMs = opts.collectMs ?? 3000;
    this.noopPerFrame = opts.noopPerFrame ?? 24;
    this.heavyPerFrame = opts.heavyPerFrame ?? 6;
    // 30 Hz plus headroom for a loop that catches up after a stall.
    this.capacity = Math.ceil((this.durationMs / 1000) * 40 + 8) * (this.noopPerFrame + this.heavyPerFrame);
    this.expected = new Float64Array(this.capacity);
    this.kindOf = new Uint8Array(this.capacity);
    this.seen = new Uint8Array(this.capacity);
    this.lagFrames = new Int32Array(this.capacity);
  }

  get done(): boolean {
    return this.finished;
  }

  onFrame(engine: PanelEngine, frame: number, nowMs: number): void {
    if (this.finished) return;
    if (this.startMs < 0) {
      this.engine = engine;
      this.startMs = nowMs;
      this.noopId = engine.kindId('noop');
      this.heavyId = engine.kindId(HEAVY_KIND);
    }
    if (this.collectUntil < 0) {
      if (nowMs - this.startMs < this.durationMs) {
        for (let i = 0; i < this.noopPerFrame; i++) this.submitNoop(engine, frame, i);
        for (let i = 0; i < this.heavyPerFrame; i++) this.submitHeavy(engine, frame, i);
        return;
      }
      this.collectUntil = nowMs + this.collectMs;
    }
    if (this.received === this.accepted || nowMs >= this.collectUntil) this.finish();
  }

  private submitNoop(engine: PanelEngine, frame: number, i: number): void {
    const seq = this.next;
    if (seq >= this.capacity) return;
    this.params[0] = seq;
    this.params[1] = frame + i * 0.5;
    this.record(engine.submit(this.noopId, this.params, clientTag(CLIENT_QUICK, seq), undefined), seq, K_NOOP, this.params[0] + this.params[1]);
  }

  private submitHeavy(engine: PanelEngine, frame: number, i: number): void {
    const seq = this.next;
    if (seq >= this.capacity) return;
    this.params[0] = (frame * 131 + i * 17) | 0;
    this.params[1] = HEAVY_ITERATIONS;
    computeHeavyKind.run(this.params, this.out, undefined as never);
    this.record(engine.submit(this.heavyId, this.params, clientTag(CLIENT_QUICK, seq), undefined), seq, K_HEAVY, this.out[0]);
  }

  private record(id: number, seq: number, kind: number, expected: number): void {
    this.next++;
    if (id < 0) {
      this.rejected++;
      const why = rejectionName(id);
      this.rejectedBy[why] = (this.rejectedBy[why] ?? 0) + 1;
      return;
    }
    this.accepted++;
    this.seen[seq] = 1;
    this.kindOf[seq] = kind;
    this.expected[seq] = expected;
  }

  onResult(r: ResultView, seq: number): void {
    if (seq >= this.capacity || this.seen[seq] === 0) {
      this.problems.push(`result for job sequence ${seq}, which was never accepted`);
      return;
    }
    if (this.seen[seq] === 2) {
      this.duplicates++;
      return;
    }
    this.seen[seq] = 2;
    this.received++;
    this.lagFrames[seq] = (this.engine?.frame ?? r.submitFrame) - r.submitFrame;
    if (r.status !== Outcome.Done) {
      this.failed++;
      if (this.problems.length < 5) {
        this.problems.push(`job ${r.jobId} ended ${outcomeName(r.status)}${r.error ? `: ${r.error.message}` : ''}`);
      }
      return;
    }
    if (r.valueCount >= 1 && r.values[0] === this.expected[seq]) this.verified++;
    else {
      this.wrong++;
      if (this.problems.length < 5) {
        const kind = this.kindOf[seq] === K_NOOP ? 'noop' : HEAVY_KIND;
        this.problems.push(`${kind} job ${r.jobId} returned ${r.values[0]}, expected ${this.expected[seq]}`);
      }
    }
  }

  private finish(): void {
    this.finished = true;
    const engine = this.engine;
    const health = engine ? engine.health() : [];
    const workerCount = engine ? engine.workerCount : 0;
    const alive = health.filter((h) => h.state === 'alive' || h.state === 'stale').length;
    const missing = this.accepted - this.received;
    const lags: number[] = [];
    for (let s = 0; s < this.next && s < this.capacity; s++) if (this.seen[s] === 2) lags.push(this.lagFrames[s]);
    lags.sort((a, b) => a - b);
    const pct = (p: number): number => (lags.length ? lags[Math.min(lags.length - 1, Math.ceil(p * lags.length) - 1)] : 0);
    const frames = { p50: pct(0.5), p99: pct(0.99), max: lags.length ? lags[lags.length - 1] : 0 };

    const failures: string[] = [];
    if (this.accepted === 0) failures.push('no job was accepted');
    if (missing > 0) failures.push(`${fmt(missing)} job(s) never came back`);
    if (this.duplicates > 0) failures.push(`${fmt(this.duplicates)} result(s) delivered twice`);
    if (this.failed > 0) failures.push(`${fmt(this.failed)} job(s) failed or expired`);
    if (this.wrong > 0) failures.push(`${fmt(this.wrong)} wrong result(s)`);
    if (alive < workerCount) failures.push(`only ${alive} of ${workerCount} workers running at the end`);
    if (this.rejected > 0 && this.rejected * 2 > this.next) failures.push(`most submits refused (${this.describeRejections()})`);
    failures.push(...this.problems.filter((p) => p.startsWith('result for')));

    const ok = failures.length === 0;
    const workersText = workerCount === 0 ? 'inline (0 workers)' : `${alive}/${workerCount} alive`;
    const headline = ok
      ? `ok: engine working, ${fmt(this.verified)}/${fmt(this.accepted)} jobs verified, workers ${workersText}`
      : `FAILED: ${failures.join('; ')}`;
    const lines = [
      headline,
      `  workers   ${workersText}`,
      `  jobs      ${fmt(this.next)} submitted, ${fmt(this.accepted)} accepted, ${fmt(this.verified)} verified, ${fmt(this.wrong)} wrong, ${fmt(this.failed)} failed, ${fmt(missing)} missing, ${fmt(this.duplicates)} duplicated`,
      `  refused   ${fmt(this.rejected)}${this.rejected ? ` (${this.describeRejections()})` : ''}`,
      `  latency   applied after p50 ${frames.p50}, p99 ${frames.p99}, max ${frames.max} frame(s)`,
    ];
    if (!ok && this.problems.length) lines.push(...this.problems.map((p) => `  · ${p}`));
    this.result = {
      ok,
      headline,
      text: lines.join('\n'),
      submitted: this.next,
      verified: this.verified,
      wrong: this.wrong,
      failed: this.failed,
      missing,
      duplicates: this.duplicates,
      rejected: this.rejected,
      workersAlive: alive,
      workerCount,
      frames,
    };
  }

  private describeRejections(): string {
    return Object.entries(this.rejectedBy)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
  }

  /** The outcome; only valid once `done`. */
  report(): QuickTestReport {
    if (!this.result) throw new Error('quick test still running');
    return this.result;
  }
}

/**
 * Model-based fuzzing of the engine's public API, shared by test/fuzz.test.ts (a short
 * run inside `npm test`) and tools/fuzz.ts (`npm run fuzz -- --runs N [--seed S]`).
 *
 * fast-check generates sequences of commands (submit valid and malformed jobs, parallel-for
 * jobs, bundles and jobs with prerequisites, bursts, poll, cancel, runInline, advance the frame,
 * kill a worker, hang a worker, crash a worker, make a handler throw, shut down) and runs them against a real engine with two
 * real worker threads. A reference model follows along: the jobs it expects, which
 * outcomes each may end in, and what the counters must read. After every command and at
 * the end of every sequence the engine is checked against it:
 *
 * - every accepted job ends in exactly one outcome; nothing is delivered twice, for a
 *   cancelled job, or for an id that was never handed out; a bundle's jobs come one each,
 *   in order, and are counted as they come;
 * - a done job's values (and arena bytes, every item of a parallel-for job) equal what the
 *   kind's handler computes when called directly on this thread with the same inputs;
 * - a job with prerequisites is done only if every prerequisite is done, and fails
 *   `dependency-failed` only if one is not;
 * - a failure is explained: the handler throws, the job hangs or crashes its worker, a
 *   worker was lost while the job was in flight, or the engine was shutting down;
 *   `expired` only for a job whose deadline frame had passed;
 * - malformed submits return the exact rejection code, and the counters (submitted,
 *   rejected by reason, completed, failed, expired, cancelled, in flight) equal the model's;
 * - after every fault a new job is accepted and completes, and after every sequence the
 *   arena is empty again.
 *
 * One engine serves many sequences (each ends with nothing in flight), so a few hundred
 * sequences take seconds; a shutdown, or a failed sequence, replaces it.
 *
 * Threads: main thread only.
 */
import * as fc from 'fast-check';
import type { EngineEvent, EngineStats, ResultView, SubmitOptions } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import type { JobContext, JobKind } from '../engine/kind.js';
import { NO_DEADLINE } from '../engine/layout.js';
import { Outcome, Rejection, outcomeName, rejectionName } from '../engine/outcome.js';
import { builtModuleUrl } from '../engine/paths.js';
import type { WorkerLink } from '../engine/worker-link.js';
import { mulberry32 } from '../game/random.js';
import { sleep, yieldToEventLoop } from '../game/time.js';
import { arenaKind, echoKind, sumInputKind, throwKind } from './fixtures/kinds.js';

/** The engine every sequence runs against. */
export const FUZZ_ENGINE = {
  workers: 2,
  jobCapacity: 256,
  arenaBytes: 64 * 1024,
  heartbeatMs: 20,
  hangTimeoutMs: 200,
  // Sequences kill workers by the hundred; the default cap would leave a worker dead.
  maxRespawnsPerMinute: 1_000_000,
} as const;

const FIXTURE_KINDS = builtModuleUrl(import.meta.url, './fixtures/kinds.js');
/** Longest wait for an outcome (or a live worker) before the sequence fails, ms. */
const SETTLE_MS = 10_000;
/** A command that has not returned in this long is reported as stuck (FuzzEnv.stallReport). */
export const STALL_MS = 20_000;


type JobClass = 'echo' | 'arena' | 'sum' | 'throw' | 'hang' | 'crash' | 'odd' | 'range';
type JobState = 'pending' | 'done' | 'failed' | 'expired' | 'cancelled';

interface ModelJob {
  readonly id: number;
  readonly cls: JobClass;
  readonly kind: number;
  readonly tag: number;
  readonly frame: number;
  readonly deadline: number;
  readonly label: string;
  /** What the handler computes for these inputs, run directly on this thread. */
  readonly expectValues: readonly number[];
  /** test.arena: the int32 values its arena slice must hold. */
  readonly expectArena: readonly number[];
  /** test.throw: the message the handler throws. */
  readonly expectMessage: string;
  /** test.range (a parallel-for job): its items, each writing one float64 of the arena, and the one that throws (-1: none). */
  readonly range?: { readonly seed: number; readonly count: number; readonly failAt: number };
  /** Its prerequisites (SubmitOptions.after), by id. */
  readonly after?: readonly number[];
  /** A bundle (submitBundle): what each of its jobs computes, in order; expectValues is unused. */
  readonly items?: readonly (readonly number[])[];
  /** A bundle: its jobs delivered so far, and how many of them failed. */
  got: number;
  itemsFailed: number;
  /** A bundle is done once every job in it is; failed if any failed. */
  state: JobState;
  /** How its outcome came (poll, runInline's callback, shutdown) and a failure's reason. */
  via?: 'poll' | 'inline' | 'shutdown';
  reason?: string | null;
  /** A worker was lost (exit, hang, out of memory) while this job was in flight. */
  exposed: boolean;
  /** The frame moved past its deadline frame while it was in flight. */
  expirable: boolean;
}

/** Counts across every sequence an env ran; the CLI prints them. */
export interface FuzzTotals {
  runs: number;
  commands: number;
  submits: number;
  jobs: number;
  rejected: number;
  malformed: number;
  faults: { kills: number; hangs: number; crashes: number; throws: number; shutdowns: number };
  /** Caller misbehaviour: callbacks that re-enter or throw, hostile values, held slices, odd throwables, exhausted respawns. */
  hostile: { reentrant: number; callbackThrows: number; values: number; heldSlices: number; oddThrows: number; exhausted: number };
  outcomes: { done: number; failed: number; expired: number; cancelled: number };
  inlineRuns: number;
  /** Bundles accepted, and their jobs delivered one by one. */
  bundles: number;
  bundleJobs: number;
  engines: number;
  workerEvents: number;
}

export const emptyTotals = (): FuzzTotals => ({
  runs: 0,
  commands: 0,
  submits: 0,
  jobs: 0,
  rejected: 0,
  malformed: 0,
  faults: { kills: 0, hangs: 0, crashes: 0, throws: 0, shutdowns: 0 },
  hostile: { reentrant: 0, callbackThrows: 0, values: 0, heldSlices: 0, oddThrows: 0, exhausted: 0 },
  outcomes: { done: 0, failed: 0, expired: 0, cancelled: 0 },
  inlineRuns: 0,
  bundles: 0,
  bundleJobs: 0,
  engines: 0,
  workerEvents: 0,
});

// ---------------------------------------------------------------- the oracle

const oracleBuf = new ArrayBuffer(1 << 20);
const oracleCtx: JobContext<unknown> = {
  state: undefined,
  env: { workerIndex: -1, shared: {}, config: {} },
  jobId: 0,
  tag: 0,
  submitFrame: 0,
  arenaOffset: 0,
  arenaBytes: 0,
  rangeStart: 0,
  rangeEnd: 1,
  arenaU8: new Uint8Array(oracleBuf),
  arenaI32: new Int32Array(oracleBuf),
  arenaF32: new Float32Array(oracleBuf),
  arenaF64: new Float64Array(oracleBuf),
};
const oracleOut = new Float64Array(16);

/** Runs `kind`'s handler here, on this thread, with a private arena. */
function oracle(kind: JobKind<any>, params: readonly number[], tag: number, frame: number, input: Int32Array | null, arenaBytes: number): {
  values: number[];
  arena: number[];
  message: string;
} {
  const ctx = oracleCtx as { -readonly [K in keyof JobContext<unknown>]: JobContext<unknown>[K] };
  ctx.tag = tag;
  ctx.submitFrame = frame;
  ctx.arenaOffset = 0;
  ctx.arenaBytes = arenaBytes;
  ctx.arenaI32.fill(0, 0, arenaBytes >> 2);
  if (input) ctx.arenaI32.set(input, 0);
  try {
    kind.run(Float64Array.from(params), oracleOut, ctx);
  } catch (err) {
    return { values: [], arena: [], message: (err as Error).message };
  }
  return {
    values: Array.from(oracleOut.subarray(0, kind.results.length)),
    arena: kind === arenaKind ? Array.from(ctx.arenaI32.subarray(0, arenaBytes >> 2)) : [],
    message: '',
  };
}

// ---------------------------------------------------------------- model and real side

export interface Model {
  readonly jobs: Map<number, ModelJob>;
  readonly pending: Set<number>;
  frame: number;
  shut: boolean;
  submits: number;
  rejected: number;
  readonly rejectedBy: Map<number, number>;
  done: number;
  failed: number;
  expired: number;
  cancelled: number;
  workerEvents: number;
  faults: number;
  /**
   * An arena-using job was run inline while a worker held it: the engine keeps that
   * job's slice until the worker's (dropped) result comes back, which the model cannot see.
   */
  inlineArena: boolean;
  /** Some job was run inline in this sequence. */
  inlineRan: boolean;
  /** Violations seen inside callbacks; thrown by the next check. */
  readonly errors: string[];
}

/** One sequence's view of the engine. */
export class Run {
  readonly env: FuzzEnv;
  readonly engine: EngineCore;
  readonly model: Model;
  readonly base: EngineStats;
  readonly baseStale: number;
  readonly ids: Record<JobClass, number>;
  /** Set by poll's sink so a command can count what one call delivered. */
  delivered = 0;
  readonly sink: (r: ResultView) => void;

  constructor(env: FuzzEnv, engine: EngineCore) {
    this.env = env;
    this.engine = engine;
    this.base = engine.stats();
    this.baseStale = engine.staleRecords;
    this.ids = {
      echo: engine.kindId('test.echo'),
      arena: engine.kindId('test.arena'),
      sum: engine.kindId('test.sum-input'),
      throw: engine.kindId('test.throw'),
      hang: engine.kindId('test.hang'),
      crash: engine.kindId('test.crash'),
      odd: engine.kindId('test.odd-throw'),
      range: engine.kindId('test.range'),
    };
    this.model = {
      jobs: new Map(),
      pending: new Set(),
      frame: engine.frame,
      shut: false,
      submits: 0,
      rejected: 0,
      rejectedBy: new Map(),
      done: 0,
      failed: 0,
      expired: 0,
      cancelled: 0,
      workerEvents: 0,
      faults: 0,
      inlineArena: false,
      inlineRan: false,
      errors: [],
    };
    this.sink = (r) => {
      this.delivered++;
      this.deliver(r, 'poll');
    };
    engine.onEvent = (e: EngineEvent) => {
      if (e.type === 'worker-exit' || e.type === 'worker-hung' || e.type === 'worker-out-of-memory') {
        this.model.workerEvents++;
        this.env.totals.workerEvents++;
        for (const id of this.model.pending) this.model.jobs.get(id)!.exposed = true;
      }
    };
  }

  private fail(msg: string): void {
    this.model.errors.push(msg);
  }

  /** Checks one delivered result against the model and records its outcome. */
  deliver(r: ResultView, via: 'poll' | 'inline' | 'shutdown'): void {
    const m = this.model;
    const j = m.jobs.get(r.jobId);
    if (j === undefined) return this.fail(`${via}: result for job ${r.jobId}, which was never handed out in this sequence`);
    if (j.state !== 'pending') return this.fail(`${via}: second outcome for ${j.label} (already ${j.state}), now ${outcomeName(r.status)}`);
    if (j.items !== undefined) return this.deliverItem(j, r, via);
    const where = `${via}: ${j.label}`;
    if (r.kind !== j.kind || r.tag !== j.tag || r.submitFrame !== j.frame || r.deadlineFrame !== j.deadline) {
      this.fail(`${where}: routing fields kind ${r.kind} tag ${r.tag} frame ${r.submitFrame} deadline ${r.deadlineFrame} do not match the submit`);
    }
    // A job that failed before reaching a worker (a prerequisite failed) names none.
    const unrun = r.status === Outcome.Failed && r.error?.reason === 'dependency-failed';
    if (via === 'inline' ? r.worker !== -1 : !((r.worker >= 0 && r.worker < this.engine.workerCount) || (unrun && r.worker === -1))) {
      this.fail(`${where}: worker ${r.worker} is not a possible runner for a ${via} result`);
    }
    const reason = r.error?.reason ?? null;
    j.via = via;
    j.reason = reason;
    switch (r.status) {
      case Outcome.Done: {
        j.state = 'done';
        m.done++;
        if (j.cls !== 'echo' && j.cls !== 'arena' && j.cls !== 'sum' && j.cls !== 'range') return this.fail(`${where}: a ${j.cls} job cannot complete`);
        if (j.range !== undefined && j.range.failAt >= 0 && j.range.failAt < j.range.count) return this.fail(`${where}: completed, but item ${j.range.failAt} throws`);
        if (r.error !== null) this.fail(`${where}: done with an error attached`);
        const got = Array.from(r.values.subarray(0, r.valueCount));
        if (got.length !== j.expectValues.length || got.some((v, i) => !Object.is(v, j.expectValues[i]))) {
          this.fail(`${where}: values ${JSON.stringify(got)}, the handler computes ${JSON.stringify(j.expectValues)}`);
        }
        if (j.range !== undefined) {
          // Every item, whichever worker (or this thread) ran its chunk.
          const a = this.engine.arenaF64;
          const base = r.arenaOffset >> 3;
          for (let i = 0; i < j.range.count; i++) {
            const want = rangeItem(j.range.seed, i);
            if (!Object.is(a[base + i], want)) {
              this.fail(`${where}: item ${i} of ${j.range.count} is ${a[base + i]}, expected ${want}`);
              break;
            }
          }
        }
        if (j.cls === 'arena') {
          const a = this.engine.arenaI32;
          const base = r.arenaOffset >> 2;
          for (let i = 0; i < j.expectArena.length; i++) {
            if (a[base + i] !== j.expectArena[i]) {
              this.fail(`${where}: arena word ${i} is ${a[base + i]}, expected ${j.expectArena[i]}`);
              break;
            }
          }
        }
        break;
      }
      case Outcome.Failed: {
        j.state = 'failed';
        m.failed++;
        if (r.error === null) return this.fail(`${where}: failed without an error`);
        const ok =
          (reason === 'threw' && (j.cls === 'throw' || j.cls === 'range') && j.expectMessage !== '' && r.error.message.includes(j.expectMessage)) ||
          (reason === 'threw' && j.cls === 'odd') ||
          (reason === 'worker-lost' && (j.cls === 'hang' || j.cls === 'crash' || j.exposed)) ||
          (reason === 'worker-out-of-memory' && j.exposed) ||
          (reason === 'shutdown' && m.shut) ||
          (reason === 'dependency-failed' && j.after !== undefined && j.after.length > 0);
        if (!ok) this.fail(`${where}: failed with reason ${reason} (${r.error.message}), which nothing explains (exposed to a lost worker: ${j.exposed})`);
        break;
      }
      case Outcome.Expired:
        j.state = 'expired';
        m.expired++;
        if (!j.expirable) this.fail(`${where}: expired, but the frame never passed its deadline ${j.deadline}`);
        break;
      default:
        j.state = 'failed';
        this.fail(`${where}: delivered with status ${r.status} (${outcomeName(r.status)})`);
    }
    m.pending.delete(j.id);
    const t = this.env.totals.outcomes;
    if (j.state === 'done') t.done++;
    else if (j.state === 'failed') t.failed++;
    else if (j.state === 'expired') t.expired++;
  }

  /** One job of a bundle: in order, its values those its handler computes, counted as it comes. */
  private deliverItem(j: ModelJob, r: ResultView, via: 'poll' | 'inline' | 'shutdown'): void {
    const m = this.model;
    const items = j.items!;
    const where = `${via}: ${j.label} job ${r.item}`;
    if (r.item !== j.got) this.fail(`${where}: delivered where job ${j.got} of ${items.length} was next`);
    if (via === 'inline') this.fail(`${where}: a bundle's job delivered by runInline`);
    if (r.kind !== j.kind || r.tag !== j.tag || r.submitFrame !== j.frame || r.deadlineFrame !== j.deadline) {
      this.fail(`${where}: routing fields kind ${r.kind} tag ${r.tag} frame ${r.submitFrame} deadline ${r.deadlineFrame} do not match the submit`);
    }
    if (!(r.worker >= 0 && r.worker < this.engine.workerCount)) this.fail(`${where}: worker ${r.worker} is not a possible runner`);
    const reason = r.error?.reason ?? null;
    const t = this.env.totals.outcomes;
    if (r.status === Outcome.Done) {
      m.done++;
      t.done++;
      const want = items[Math.min(Math.max(r.item, 0), items.length - 1)];
      const got = Array.from(r.values.subarray(0, r.valueCount));
      if (j.cls !== 'echo') this.fail(`${where}: a ${j.cls} job cannot complete`);
      if (r.error !== null) this.fail(`${where}: done with an error attached`);
      if (got.length !== want.length || got.some((v, i) => !Object.is(v, want[i]))) this.fail(`${where}: values ${JSON.stringify(got)}, the handler computes ${JSON.stringify(want)}`);
    } else if (r.status === Outcome.Failed) {
      m.failed++;
      t.failed++;
      j.itemsFailed++;
      const ok =
        (reason === 'threw' && j.cls === 'throw' && r.error!.message.includes(j.expectMessage)) ||
        ((reason === 'worker-lost' || reason === 'worker-out-of-memory') && j.exposed) ||
        (reason === 'shutdown' && m.shut);
      if (!ok) this.fail(`${where}: failed with reason ${reason} (${r.error?.message}), which nothing explains (exposed to a lost worker: ${j.exposed})`);
    } else {
      m.failed++;
      this.fail(`${where}: delivered with status ${r.status} (${outcomeName(r.status)}); a bundle of kinds without a deadline cannot expire`);
    }
    j.got++;
    this.env.totals.bundleJobs++;
    if (j.got === items.length) {
      j.state = j.itemsFailed > 0 ? 'failed' : 'done';
      j.via = via;
      j.reason = reason;
      m.pending.delete(j.id);
    }
  }

  /** Jobs awaiting their outcome: a bundle counts each job not yet delivered. */
  pendingJobs(): number {
    let n = 0;
    for (const id of this.model.pending) {
      const j = this.model.jobs.get(id)!;
      n += j.items === undefined ? 1 : j.items.length - j.got;
    }
    return n;
  }

  /** Records a job (each job of a bundle) as cancelled. */
  cancelled(j: ModelJob): void {
    const n = j.items === undefined ? 1 : j.items.length - j.got;
    j.state = 'cancelled';
    this.model.pending.delete(j.id);
    this.model.cancelled += n;
    this.env.totals.outcomes.cancelled += n;
  }

  /** Records a submit's answer. `expect` is the one rejection a malformed submit must get. */
  recordSubmit(ret: number, job: Omit<ModelJob, 'id' | 'state' | 'exposed' | 'expirable' | 'frame' | 'deadline' | 'got' | 'itemsFailed'> & { deadlineFrames?: number }, expect?: Rejection): number {
    const m = this.model;
    // A bundle is submitted, and refused, job by job.
    const count = job.items === undefined ? 1 : job.items.length;
    m.submits += count;
    this.env.totals.submits++;
    if (expect !== undefined) this.env.totals.malformed++;
    if (ret < 0) {
      m.rejected += count;
      this.env.totals.rejected += count;
      m.rejectedBy.set(ret, (m.rejectedBy.get(ret) ?? 0) + count);
      if (m.shut) {
        if (ret !== Rejection.ShutDown) this.fail(`${job.label}: after shutdown rejected ${rejectionName(ret)}, expected shut-down`);
      } else if (expect !== undefined) {
        if (ret !== expect) this.fail(`${job.label}: rejected ${rejectionName(ret)}, expected ${rejectionName(expect)}`);
      } else if (ret === Rejection.RingFull) {
        // A job run inline holds its slot until its worker is done with it, unseen by the model.
        if (m.pending.size === 0 && !m.inlineRan && this.allAlive()) this.fail(`${job.label}: ring-full with nothing in flight and every worker up`);
      } else if (ret === Rejection.NoWorkers) {
        if (this.engine.health().some((h) => h.state !== 'dead')) this.fail(`${job.label}: no-workers with a worker not dead`);
      } else if (ret === Rejection.ArenaFull) {
        if (!this.arenaInUse()) this.fail(`${job.label}: arena-full with no arena job in flight`);
      } else {
        this.fail(`${job.label}: a valid submit was rejected ${rejectionName(ret)}`);
      }
      return ret;
    }
    if (m.shut) this.fail(`${job.label}: accepted after shutdown`);
    if (expect !== undefined) this.fail(`${job.label}: malformed submit accepted as job ${ret}, expected ${rejectionName(expect)}`);
    if (m.jobs.has(ret)) this.fail(`${job.label}: job id ${ret} handed out twice`);
    const deadline = job.deadlineFrames === undefined ? NO_DEADLINE : Math.min(NO_DEADLINE, m.frame + Math.floor(job.deadlineFrames));
    m.jobs.set(ret, { ...job, id: ret, frame: m.frame, deadline, state: 'pending', exposed: false, expirable: false, got: 0, itemsFailed: 0 });
    m.pending.add(ret);
    this.env.totals.jobs += count;
    return ret;
  }

  allAlive(): boolean {
    return this.engine.health().every((h) => h.state === 'alive');
  }

  arenaInUse(): boolean {
    if (this.model.inlineArena) return true;
    const holds = (c: JobClass): boolean => c === 'arena' || c === 'sum' || c === 'range';
    for (const id of this.model.pending) {
      const j = this.model.jobs.get(id)!;
      if (holds(j.cls) || j.items !== undefined) return true;
      // A prerequisite's slice stays allocated until its dependents end.
      if (j.after !== undefined && j.after.some((p) => holds(this.model.jobs.get(p)!.cls))) return true;
    }
    return false;
  }

  /**
   * A dependent's outcome against its prerequisites' (checked once every outcome is in,
   * since a dependent's failure and its prerequisite's may come in either order): done
   * only if every prerequisite is done; dependency-failed only if one is not.
   */
  checkDependencies(): void {
    for (const j of this.model.jobs.values()) {
      if (j.after === undefined || j.state === 'pending' || j.state === 'cancelled') continue;
      const pre = j.after.map((p) => this.model.jobs.get(p)!);
      if (pre.some((p) => p.state === 'pending')) continue;
      const allDone = pre.every((p) => p.state === 'done');
      if (j.state === 'done' && !allDone) this.fail(`${j.label}: done, but prerequisite(s) ${pre.filter((p) => p.state !== 'done').map((p) => `${p.label} ${p.state}`).join(', ')}`);
      if (j.reason === 'dependency-failed' && allDone) this.fail(`${j.label}: dependency-failed, but every prerequisite is done`);
    }
  }

  /** Throws if the engine disagrees with the model. */
  check(when: string): void {
    const m = this.model;
    const s = this.engine.stats();
    const d = (k: 'submitted' | 'rejected' | 'completed' | 'failed' | 'expired' | 'cancelled'): number => s[k] - this.base[k];
    const want = { submitted: m.submits, rejected: m.rejected, completed: m.done, failed: m.failed, expired: m.expired, cancelled: m.cancelled };
    for (const k of Object.keys(want) as (keyof typeof want)[]) {
      if (d(k) !== want[k]) m.errors.push(`counter ${k} moved by ${d(k)}, the model counted ${want[k]}`);
    }
    const awaited = this.pendingJobs();
    if (s.inFlight !== awaited) m.errors.push(`engine reports ${s.inFlight} in flight, the model awaits ${awaited}`);
    if (s.submitted !== s.completed + s.failed + s.rejected + s.expired + s.cancelled + s.inFlight) m.errors.push('engine counters do not add up');
    for (const [code, n] of m.rejectedBy) {
      const name = rejectionName(code);
      const got = (s.rejectedByReason[name] ?? 0) - (this.base.rejectedByReason[name] ?? 0);
      if (got !== n) m.errors.push(`rejections ${name} moved by ${got}, the model counted ${n}`);
    }
    this.checkDependencies();
    if (m.errors.length > 0) throw new Error(`after ${when}:\n  ${m.errors.join('\n  ')}`);
  }

  /** Polls until every job has an outcome (or SETTLE_MS passes). */
  async settle(what: string): Promise<void> {
    const end = performance.now() + SETTLE_MS;
    while (this.model.pending.size > 0) {
      this.engine.poll(this.sink);
      if (this.model.pending.size === 0) break;
      if (performance.now() > end) {
        const left = [...this.model.pending].map((id) => this.model.jobs.get(id)!.label);
        throw new Error(`${what}: ${left.length} job(s) never got an outcome: ${left.slice(0, 8).join(', ')}`);
      }
      await sleep(1);
    }
  }

  /**
   * After a fault: the engine must take a new job (once a worker is up to take it) and
   * complete it. A fault that left no worker up answers ring-full until one is back.
   */
  async acceptsWork(after: string): Promise<void> {
    if (this.model.shut) return;
    const end = performance.now() + SETTLE_MS;
    for (;;) {
      const id = submitEcho(this, 7, 7, 0x5afe, undefined, `probe after ${after}`);
      if (id >= 0) return;
      if (id !== Rejection.RingFull || performance.now() > end) throw new Error(`after ${after}: the engine refused new work (${rejectionName(id)})`);
      this.engine.poll(this.sink);
      await sleep(1);
    }
  }

  /** The end of a sequence: everything accounted for, the arena empty, the engine taking work. */
  async finish(): Promise<void> {
    const m = this.model;
    if (!m.shut) {
      await this.settle('end of sequence');
      await this.acceptsWork('the sequence');
      await this.settle('end of sequence (probe)');
    }
    this.check('end of sequence');
    // The arena is empty again once the workers have finished (a job run inline keeps
    // its slice until its worker is done with it too).
    const end = performance.now() + SETTLE_MS;
    while (this.engine.stats().arenaBytesUsed !== 0) {
      if (m.shut || performance.now() > end) throw new Error(`end of sequence: ${this.engine.stats().arenaBytesUsed} arena bytes still in use with nothing in flight`);
      this.engine.poll(this.sink);
      await sleep(1);
    }
    // With nothing in flight, no worker stays charged with a job, a background job or one
    // of a kind not yet measured: counts the dispatcher chooses by (a leak would keep a
    // worker out of the choice for good). A job runInline delivered may still run on its
    // worker for a moment, charged until poll drops its result.
    if (!m.shut) {
      const workers = (this.engine as unknown as { workers: readonly WorkerLink[] }).workers;
      const charged = (): WorkerLink | undefined => workers.find((w) => w.inflight !== 0 || w.background !== 0 || w.unmeasured !== 0);
      const until = performance.now() + SETTLE_MS;
      while (charged() !== undefined && performance.now() < until) {
        this.engine.poll(this.sink);
        await sleep(1);
      }
      const w = charged();
      if (w !== undefined) {
        m.errors.push(`end of sequence: worker ${w.index} still charged with ${w.inflight} job(s), ${w.background} background, ${w.unmeasured} of a kind not yet measured`);
      }
    }
    this.check('end of sequence (arena)');
    if (m.workerEvents === 0 && this.engine.staleRecords !== this.baseStale) {
      throw new Error(`end of sequence: ${this.engine.staleRecords - this.baseStale} stale result record(s) with no worker lost`);
    }
  }
}

// ---------------------------------------------------------------- submits

function submitEcho(run: Run, a: number, b: number, tag: number, deadlineFrames: number | undefined, label?: string): number {
  const e = run.engine;
  const params = [a, b];
  const frame = run.model.frame;
  const o = oracle(echoKind, params, tag, frame, null, 0);
  const opts: SubmitOptions | undefined = deadlineFrames === undefined ? undefined : { deadlineFrames };
  const ret = e.submit(run.ids.echo, params, tag, opts);
  return run.recordSubmit(ret, {
    cls: 'echo', kind: run.ids.echo, tag, deadlineFrames,
    label: label ?? `echo(${a}, ${b}) tag ${tag}`, expectValues: o.values, expectArena: [], expectMessage: '',
  });
}

/** The faults and jobs a sequence can submit. */
type SubmitSpec =
  | { t: 'echo'; a: number; b: number; tag: number; deadline?: number }
  | { t: 'arena'; seed: number; count: number; tag: number; deadline?: number }
  | { t: 'sum'; values: number[]; tag: number; deadline?: number }
  | { t: 'throw'; code: number; tag: number; deadline?: number }
  | { t: 'range'; seed: number; count: number; grain: number; failAt: number; background: boolean; after: number[] | null; tag: number; deadline?: number }
  | { t: 'dep'; picks: number[]; a: number; b: number; tag: number; deadline?: number }
  | { t: 'many'; jobs: [number, number][]; tag: number; deadline?: undefined }
  | { t: 'bundle'; count: number; seed: number; spoil: [number, number] | undefined; throws: boolean; tag: number; deadline?: undefined };

/**
 * Prerequisites for a job: up to 3 jobs of this sequence, mostly ones still awaiting their
 * outcome; one time in four from every job so far (so some have ended). None when the
 * sequence has no job yet.
 */
function pickAfter(run: Run, picks: readonly number[]): ModelJob[] {
  const m = run.model;
  const pool = picks[0] % 4 === 0 || m.pending.size === 0 ? [...m.jobs.values()] : [...m.pending].map((id) => m.jobs.get(id)!);
  return pool.length === 0 ? [] : [...new Set(picks.map((k) => pool[k % pool.length]))];
}

type NewJob = Parameters<Run['recordSubmit']>[1];

/**
 * Records a submit with prerequisites `pre`. One whose outcome was delivered is refused
 * bad-params, except one run inline whose worker may still hold its slot (its dependents
 * then wait for that worker): such a submit is judged as one without ended prerequisites,
 * since the slot also still holds the job's arena slice (arena-full is a fair answer).
 */
function recordDependent(run: Run, ret: number, pre: readonly ModelJob[], job: NewJob): number {
  const withAfter = { ...job, after: pre.map((p) => p.id) };
  const ended = pre.filter((p) => p.state !== 'pending');
  if (ended.length === 0 || (ret !== Rejection.BadParams && ended.every((p) => p.via === 'inline'))) return run.recordSubmit(ret, withAfter);
  return run.recordSubmit(ret, { ...withAfter, label: `${job.label} (a prerequisite has ended)` }, Rejection.BadParams);
}

/** What test.range writes for item `i` (fixtures/kinds.ts). */
const rangeItem = (seed: number, i: number): number => Math.sqrt(seed + i) * 3 + i;

function submitValid(run: Run, s: SubmitSpec): number {
  const e = run.engine;
  const frame = run.model.frame;
  const opts: SubmitOptions = {};
  if (s.deadline !== undefined) opts.deadlineFrames = s.deadline;
  switch (s.t) {
    case 'echo':
      return submitEcho(run, s.a, s.b, s.tag, s.deadline);
    case 'arena': {
      const params = [s.seed, s.count];
      const o = oracle(arenaKind, params, s.tag, frame, null, 4 * s.count);
      const ret = e.submit(run.ids.arena, params, s.tag, opts);
      return run.recordSubmit(ret, {
        cls: 'arena', kind: run.ids.arena, tag: s.tag, deadlineFrames: s.deadline,
        label: `arena(${s.seed}, ${s.count})`, expectValues: o.values, expectArena: o.arena, expectMessage: '',
      });
    }
    case 'sum': {
      const input = Int32Array.from(s.values);
      const bytes = 4 * input.length;
      const params = [input.length];
      const o = oracle(sumInputKind, params, s.tag, frame, input, bytes);
      const off = e.arenaAlloc(bytes);
      const label = `sum-input(${input.length} values)`;
      if (off < 0) {
        if (!run.arenaInUse()) run.model.errors.push(`${label}: arenaAlloc(${bytes}) failed with no arena job in flight`);
        return -1;
      }
      e.arenaI32.set(input, off >> 2);
      opts.arenaOffset = off;
      opts.arenaBytes = bytes;
      const ret = e.submit(run.ids.sum, params, s.tag, opts);
      // A refused submit leaves the slice with its caller.
      if (ret < 0 && !e.arenaFree(off)) run.model.errors.push(`${label}: refused (${rejectionName(ret)}) but its slice could not be freed by its caller`);
      return run.recordSubmit(ret, {
        cls: 'sum', kind: run.ids.sum, tag: s.tag, deadlineFrames: s.deadline,
        label, expectValues: o.values, expectArena: [], expectMessage: '',
      });
    }
    case 'range': {
      if (s.background) opts.lane = 'background';
      const pre = s.after === null ? null : pickAfter(run, s.after);
      if (pre !== null) opts.after = pre.map((p) => p.id);
      const ret = e.parallelFor(run.ids.range, [s.seed, s.count, s.failAt, 0], s.count, s.grain, s.tag, opts);
      const fails = s.failAt >= 0 && s.failAt < s.count;
      const job = {
        cls: 'range' as const, kind: run.ids.range, tag: s.tag, deadlineFrames: s.deadline,
        label: `parallelFor range(${s.seed}, ${s.count}, grain ${s.grain}, failAt ${s.failAt}${s.background ? ', background' : ''})${pre === null ? '' : ` after [${pre.map((p) => p.label).join('; ')}]`}`,
        expectValues: [], expectArena: [], expectMessage: fails ? `item ${s.failAt} failed` : '',
        range: { seed: s.seed, count: s.count, failAt: s.failAt },
      };
      return pre === null ? run.recordSubmit(ret, job) : recordDependent(run, ret, pre, job);
    }
    case 'dep': {
      const pre = pickAfter(run, s.picks);
      opts.after = pre.map((p) => p.id);
      const params = [s.a, s.b];
      const o = oracle(echoKind, params, s.tag, frame, null, 0);
      const ret = e.submit(run.ids.echo, params, s.tag, opts);
      const label = `echo(${s.a}, ${s.b}) after [${pre.map((p) => p.label).join('; ')}]`;
      return recordDependent(run, ret, pre, { cls: 'echo', kind: run.ids.echo, tag: s.tag, deadlineFrames: s.deadline, label, expectValues: o.values, expectArena: [], expectMessage: '' });
    }
    case 'many': {
      // Echo jobs by submitMany: the batch stops at the first job refused (a b outside
      // echo's range is bad-params), whose code follows the accepted ids.
      const count = s.jobs.length;
      const params = new Float64Array(2 * count);
      s.jobs.forEach(([a, b], j) => params.set([a, b], 2 * j));
      const ids = new Int32Array(count);
      const ret = e.submitMany(run.ids.echo, params, count, ids, s.tag);
      if (ret > count) run.model.errors.push(`submitMany of ${count} returned ${ret}`);
      const accepted = Math.max(0, ret);
      let last = -1;
      for (let j = 0; j < Math.min(accepted, count); j++) {
        const [a, b] = s.jobs[j];
        const o = oracle(echoKind, [a, b], s.tag, frame, null, 0);
        last = run.recordSubmit(ids[j], { cls: 'echo', kind: run.ids.echo, tag: s.tag, label: `submitMany echo #${j} (${a}, ${b})`, expectValues: o.values, expectArena: [], expectMessage: '' });
      }
      if (accepted < count) {
        const [a, b] = s.jobs[accepted];
        const bad = (b | 0) !== b || b < -1_000_000 || b > 1_000_000;
        const job = { cls: 'echo' as const, kind: run.ids.echo, tag: s.tag, label: `submitMany echo #${accepted} (${a}, ${b})`, expectValues: [], expectArena: [], expectMessage: '' };
        run.recordSubmit(ret < 0 ? ret : ids[accepted], job, bad ? Rejection.BadParams : undefined);
      }
      return last;
    }
    case 'bundle': {
      // Echo jobs, or test.throw jobs that all fail, by submitBundle: accepted or refused
      // whole (one b outside echo's range refuses it bad-params).
      const random = mulberry32(s.seed);
      const jobs = Array.from({ length: s.count }, (): [number, number] => [(random() - 0.5) * 2 ** (random() * 200 - 100), Math.floor(random() * 2_000_001) - 1_000_000]);
      if (s.spoil !== undefined && jobs.length > 0) jobs[s.spoil[0] % jobs.length][1] = s.spoil[1];
      const count = jobs.length;
      const kind = s.throws ? run.ids.throw : run.ids.echo;
      const n = s.throws ? 1 : 2;
      const params = new Float64Array(n * Math.max(count, 1));
      jobs.forEach(([a, b], j) => (s.throws ? params.set([b], j) : params.set([a, b], 2 * j)));
      const ret = e.submitBundle(kind, params, count, s.tag);
      const bad = jobs.some(([, b]) => (b | 0) !== b || (!s.throws && (b < -1_000_000 || b > 1_000_000)));
      const items = s.throws ? jobs.map(() => []) : jobs.map(([a, b]) => oracle(echoKind, [a, b], s.tag, frame, null, 0).values);
      const message = s.throws && count > 0 ? oracle(throwKind, [jobs[0][1]], s.tag, frame, null, 0).message : '';
      if (ret >= 0 && s.throws) run.env.totals.faults.throws++;
      if (ret >= 0) run.env.totals.bundles++;
      const job = {
        cls: s.throws ? ('throw' as const) : ('echo' as const), kind, tag: s.tag, label: `bundle of ${count} ${s.throws ? 'throw' : 'echo'}`,
        expectValues: [], expectArena: [], expectMessage: message, items,
      };
      // A count of 0 is refused bad-params, counted as one job.
      if (count === 0) return run.recordSubmit(ret, { ...job, items: undefined, label: 'bundle of 0' }, Rejection.BadParams);
      return run.recordSubmit(ret, job, bad ? Rejection.BadParams : undefined);
    }
    case 'throw': {
      const params = [s.code];
      const o = oracle(throwKind, params, s.tag, frame, null, 0);
      const ret = e.submit(run.ids.throw, params, s.tag, opts);
      if (ret >= 0) run.env.totals.faults.throws++;
      return run.recordSubmit(ret, {
        cls: 'throw', kind: run.ids.throw, tag: s.tag, deadlineFrames: s.deadline,
        label: `throw(${s.code})`, expectValues: [], expectArena: [], expectMessage: o.message,
      });
    }
  }
}

/** Malformed submits, each with the one rejection code it must get. */
export const MALFORMED = [
  'nan-param', 'fractional-i32', 'out-of-range', 'too-few-params', 'too-many-params', 'null-params', 'string-param',
  'unknown-kind', 'negative-kind', 'fractional-kind', 'fractional-tag', 'huge-tag', 'negative-deadline',
  'payload-too-large', 'foreign-arena-slice',
] as const;
type Malformed = (typeof MALFORMED)[number];

function submitMalformed(run: Run, what: Malformed): void {
  const e = run.engine;
  const echo = run.ids.echo;
  let ret: number;
  let expect: Rejection = Rejection.BadParams;
  const p = (v: unknown): ArrayLike<number> => v as ArrayLike<number>;
  switch (what) {
    case 'nan-param': ret = e.submit(echo, [NaN, 1]); break;
    case 'fractional-i32': ret = e.submit(echo, [1, 1.5]); break;
    case 'out-of-range': ret = e.submit(echo, [1, 2_000_000]); break;
    case 'too-few-params': ret = e.submit(echo, [1]); break;
    case 'too-many-params': ret = e.submit(echo, [1, 2, 3]); break;
    case 'null-params': ret = e.submit(echo, p(null)); break;
    case 'string-param': ret = e.submit(echo, p(['1', 2])); break;
    case 'unknown-kind': ret = e.submit(e.kinds.length + 3, [1, 1]); expect = Rejection.UnknownKind; break;
    case 'negative-kind': ret = e.submit(-1, [1, 1]); expect = Rejection.UnknownKind; break;
    case 'fractional-kind': ret = e.submit(echo + 0.5, [1, 1]); expect = Rejection.UnknownKind; break;
    case 'fractional-tag': ret = e.submit(echo, [1, 1], 0.25); break;
    case 'huge-tag': ret = e.submit(echo, [1, 1], 2 ** 31); break;
    case 'negative-deadline': ret = e.submit(echo, [1, 1], 0, { deadlineFrames: -1 }); break;
    case 'payload-too-large': ret = e.submit(run.ids.arena, [1, 300_000]); expect = Rejection.PayloadTooLarge; break;
    // Slices are 8-aligned: offset 4 is never one the engine handed out.
    case 'foreign-arena-slice': ret = e.submit(run.ids.sum, [1], 0, { arenaOffset: 4, arenaBytes: 4 }); break;
  }
  run.recordSubmit(ret, { cls: 'echo', kind: echo, tag: 0, label: `malformed ${what}`, expectValues: [], expectArena: [], expectMessage: '' }, expect);
}

// ---------------------------------------------------------------- commands

type Cmd = fc.AsyncCommand<Model, Run>;

abstract class Base implements Cmd {
  check(): boolean {
    return true;
  }
  async run(_m: Model, r: Run): Promise<void> {
    r.env.totals.commands++;
    r.env.enter(this.toString());
    await this.act(r);
    r.check(this.toString());
  }
  abstract act(r: Run): Promise<void>;
  abstract toString(): string;
}

class SubmitCmd extends Base {
  constructor(readonly s: SubmitSpec) {
    super();
  }
  async act(r: Run): Promise<void> {
    submitValid(r, this.s);
  }
  toString(): string {
    const { t, ...rest } = this.s;
    return `submit ${t} ${JSON.stringify(rest)}`;
  }
}

class BurstCmd extends Base {
  constructor(readonly n: number, readonly deadline: number | undefined) {
    super();
  }
  async act(r: Run): Promise<void> {
    for (let i = 0; i < this.n; i++) submitEcho(r, i * 0.5, i, i, this.deadline, `burst echo #${i}`);
  }
  toString(): string {
    return `burst ${this.n} echo${this.deadline === undefined ? '' : ` deadline ${this.deadline}`}`;
  }
}

class MalformedCmd extends Base {
  constructor(readonly what: Malformed) {
    super();
  }
  async act(r: Run): Promise<void> {
    submitMalformed(r, this.what);
  }
  toString(): string {
    return `submit malformed: ${this.what}`;
  }
}

class PollCmd extends Base {
  constructor(readonly max: number | undefined, readonly waitMs: number) {
    super();
  }
  async act(r: Run): Promise<void> {
    if (this.waitMs > 0) await sleep(this.waitMs);
    else await yieldToEventLoop();
    r.delivered = 0;
    const n = this.max === undefined ? r.engine.poll(r.sink) : r.engine.poll(r.sink, this.max);
    if (n !== r.delivered) r.model.errors.push(`poll returned ${n} but delivered ${r.delivered}`);
    if (this.max !== undefined && n > this.max) r.model.errors.push(`poll(max ${this.max}) delivered ${n}`);
  }
  toString(): string {
    return `poll${this.max === undefined ? '' : ` max ${this.max}`}${this.waitMs > 0 ? ` after ${this.waitMs} ms` : ''}`;
  }
}

/** Which job a cancel or runInline aims at: a pending one, a finished one, or an id never handed out. */
type Target = { t: 'pending' | 'finished'; pick: number } | { t: 'bogus'; id: number };

function resolveTarget(r: Run, target: Target, safeOnly: boolean): { id: number; job: ModelJob | null } {
  if (target.t === 'bogus') return { id: target.id, job: null };
  const m = r.model;
  let pool = target.t === 'pending' ? [...m.pending].map((id) => m.jobs.get(id)!) : [...m.jobs.values()].filter((j) => j.state !== 'pending');
  // runInline would run a hanging or crashing handler on this thread: never aim it there;
  // it refuses a bundle (INVALID_ARGUMENT), which the bundle tests check.
  if (safeOnly) pool = pool.filter((j) => j.cls !== 'hang' && j.cls !== 'crash' && j.items === undefined);
  if (pool.length === 0) return { id: -1, job: null };
  const job = pool[target.pick % pool.length];
  return { id: job.id, job };
}

class CancelCmd extends Base {
  constructor(readonly target: Target) {
    super();
  }
  async act(r: Run): Promise<void> {
    const { id, job } = resolveTarget(r, this.target, false);
    const ok = r.engine.cancel(id);
    const m = r.model;
    if (job === null || job.state !== 'pending') {
      if (ok) m.errors.push(`cancel(${id}) returned true for ${job ? `${job.label}, already ${job.state}` : 'an id never handed out'}`);
      return;
    }
    if (ok) r.cancelled(job);
  }
  toString(): string {
    return `cancel ${JSON.stringify(this.target)}`;
  }
}

class RunInlineCmd extends Base {
  constructor(readonly target: Target) {
    super();
  }
  async act(r: Run): Promise<void> {
    const { id, job } = resolveTarget(r, this.target, true);
    let calls = 0;
    const ok = r.engine.runInline(id, (v) => {
      calls++;
      if (v.jobId !== id) r.model.errors.push(`runInline(${id}) delivered job ${v.jobId}`);
      r.deliver(v, 'inline');
    });
    const m = r.model;
    if (ok) {
      r.env.totals.inlineRuns++;
      m.inlineRan = true;
    }
    if (ok && job !== null && (job.cls === 'arena' || job.cls === 'sum' || job.cls === 'range')) m.inlineArena = true;
    if (ok !== (calls === 1) || calls > 1) m.errors.push(`runInline(${id}) returned ${ok} and called back ${calls} time(s)`);
    if ((job === null || job.state === 'cancelled') && ok) m.errors.push(`runInline(${id}) ran ${job ? 'a cancelled job' : 'an id never handed out'}`);
  }
  toString(): string {
    return `runInline ${JSON.stringify(this.target)}`;
  }
}

class FrameCmd extends Base {
  constructor(readonly step: number) {
    super();
  }
  async act(r: Run): Promise<void> {
    const m = r.model;
    m.frame += this.step;
    r.engine.beginFrame(m.frame);
    for (const id of m.pending) {
      const j = m.jobs.get(id)!;
      if (m.frame > j.deadline) j.expirable = true;
    }
  }
  toString(): string {
    return `advance frame by ${this.step}`;
  }
}

class KillCmd extends Base {
  constructor(readonly index: number) {
    super();
  }
  async act(r: Run): Promise<void> {
    const n = r.engine.workerCount;
    if (!(Number.isInteger(this.index) && this.index >= 0 && this.index < n)) {
      try {
        r.engine.killWorker(this.index);
        r.model.errors.push(`killWorker(${this.index}) did not throw`);
      } catch (err) {
        if (!(err instanceof EngineError) || err.code !== 'INVALID_OPTION') r.model.errors.push(`killWorker(${this.index}) threw ${String(err)}`);
      }
      return;
    }
    r.engine.killWorker(this.index);
    r.env.totals.faults.kills++;
    r.model.faults++;
    await r.acceptsWork(this.toString());
  }
  toString(): string {
    return `kill worker ${this.index}`;
  }
}

class FaultJobCmd extends Base {
  constructor(readonly what: 'hang' | 'crash', readonly code: number) {
    super();
  }
  async act(r: Run): Promise<void> {
    const e = r.engine;
    const cls = this.what;
    const params = cls === 'hang' ? [] : [this.code];
    const ret = e.submit(r.ids[cls], params, 0);
    r.recordSubmit(ret, { cls, kind: r.ids[cls], tag: 0, label: cls === 'hang' ? 'hang' : `crash(${this.code})`, expectValues: [], expectArena: [], expectMessage: '' });
    if (ret < 0) return;
    if (cls === 'hang') r.env.totals.faults.hangs++;
    else r.env.totals.faults.crashes++;
    r.model.faults++;
    await r.acceptsWork(this.toString());
  }
  toString(): string {
    return this.what === 'hang' ? 'hang a worker' : `crash a worker (exit ${this.code})`;
  }
}

class ShutdownCmd extends Base {
  async act(r: Run): Promise<void> {
    const m = r.model;
    const again = m.shut;
    m.shut = true;
    r.env.retire();
    if (again) {
      // The same promise as the first call's: it may be a rejection from a callback that threw.
      await r.engine.shutdown().catch(() => undefined);
      return;
    }
    const report = await r.engine.shutdown({ timeoutMs: 300, onResult: (v) => r.deliver(v, 'shutdown') });
    r.env.totals.faults.shutdowns++;
    // Jobs still queued when time ran out are cancelled without a delivery.
    const left = r.pendingJobs();
    if (report.cancelled !== left) m.errors.push(`shutdown cancelled ${report.cancelled} job(s), ${left} had no outcome`);
    for (const id of [...m.pending]) r.cancelled(m.jobs.get(id)!);
    if (report.stats.inFlight !== 0) m.errors.push(`shutdown left ${report.stats.inFlight} job(s) in flight`);
    if (r.engine.stats().arenaBytesUsed !== 0) m.errors.push('shutdown left arena bytes in use');
  }
  toString(): string {
    return 'shutdown';
  }
}

// ---------------------------------------------------------------- caller misbehaviour

const codeOf = (err: unknown): string => (err instanceof EngineError ? err.code : `untyped ${String(err)}`);

/** What a poll callback does besides recording its result. */
type CallbackMisdeed = 'reenter-poll' | 'reenter-inline' | 'submit-inside' | 'cancel-inside' | 'throw' | 'throw-odd';

/** Polls with a callback that re-enters the engine or throws; the engine must stay consistent. */
class MisbehavingPollCmd extends Base {
  constructor(readonly misdeed: CallbackMisdeed) {
    super();
  }
  async act(r: Run): Promise<void> {
    await yieldToEventLoop();
    const e = r.engine;
    const m = r.model;
    const thrownByUs = this.misdeed === 'throw' ? new Error('game callback bug') : this.misdeed === 'throw-odd' ? Object.create(null) : null;
    let calls = 0;
    let escaped: unknown = null;
    try {
      e.poll((v) => {
        calls++;
        r.deliver(v, 'poll');
        switch (this.misdeed) {
          case 'reenter-poll':
          case 'reenter-inline':
            try {
              if (this.misdeed === 'reenter-poll') e.poll(r.sink);
              else e.runInline(v.jobId, (x) => r.deliver(x, 'inline'));
              m.errors.push(`${this.misdeed} from a poll callback was not refused`);
            } catch (err) {
              if (codeOf(err) !== 'REENTRANT_CALL') m.errors.push(`${this.misdeed} from a poll callback threw ${codeOf(err)}, not REENTRANT_CALL`);
            }
            break;
          case 'submit-inside':
            submitEcho(r, 1, 2, 3, undefined, 'echo submitted from a poll callback');
            break;
          case 'cancel-inside': {
            const id = m.pending.values().next().value;
            if (id !== undefined && e.cancel(id)) r.cancelled(m.jobs.get(id)!);
            break;
          }
          default:
            throw thrownByUs;
        }
      });
    } catch (err) {
      escaped = err;
    }
    if (calls > 0) {
      if (this.misdeed.startsWith('throw')) r.env.totals.hostile.callbackThrows++;
      else r.env.totals.hostile.reentrant++;
    }
    if (thrownByUs !== null && calls > 0 && escaped !== thrownByUs) m.errors.push(`a poll callback threw, and poll ${escaped === null ? 'returned normally' : `threw ${String(escaped)}`}`);
    if (thrownByUs !== null && calls > 1) m.errors.push(`poll went on delivering (${calls} calls) after its callback threw`);
    if (thrownByUs === null && escaped !== null) m.errors.push(`poll threw ${String(escaped)} though its callback did not`);
  }
  toString(): string {
    return `poll with a callback that does ${this.misdeed}`;
  }
}

/** runInline with a callback that throws: the job still has exactly one outcome. */
class ThrowingInlineCmd extends Base {
  constructor(readonly target: Target) {
    super();
  }
  async act(r: Run): Promise<void> {
    const { id, job } = resolveTarget(r, this.target, true);
    const boom = new Error('apply threw');
    let calls = 0;
    let escaped: unknown = null;
    let ok = false;
    try {
      ok = r.engine.runInline(id, (v) => {
        calls++;
        r.deliver(v, 'inline');
        throw boom;
      });
    } catch (err) {
      escaped = err;
    }
    if (calls > 0) {
      r.env.totals.inlineRuns++;
      r.env.totals.hostile.callbackThrows++;
      r.model.inlineRan = true;
      if (job !== null && (job.cls === 'arena' || job.cls === 'sum' || job.cls === 'range')) r.model.inlineArena = true;
      if (escaped !== boom) r.model.errors.push(`runInline's callback threw, and runInline ${escaped === null ? `returned ${ok}` : `threw ${String(escaped)}`}`);
    } else if (escaped !== null) {
      r.model.errors.push(`runInline(${id}) threw ${String(escaped)} without calling back`);
    }
  }
  toString(): string {
    return `runInline with a throwing callback ${JSON.stringify(this.target)}`;
  }
}

export const HOSTILE = [
  'opts-null', 'opts-number', 'bigint-tag', 'symbol-tag', 'bigint-kind', 'symbol-kind', 'bigint-param', 'symbol-param',
  'bigint-deadline', 'symbol-deadline', 'bigint-arena-offset', 'null-arena-offset', 'negative-arena-bytes',
  'throwing-param-getter', 'throwing-length', 'throwing-opts-getter', 'revoked-params', 'revoked-opts', 'two-faced-params',
] as const;
type Hostile = (typeof HOSTILE)[number];

const throwingGetter = (key: string): object =>
  Object.defineProperty({}, key, {
    get() {
      throw new Error(`getter ${key}`);
    },
  });
const revoked = (target: object): object => {
  const r = Proxy.revocable(target, {});
  r.revoke();
  return r.proxy;
};

/** Hostile values in a submit: each is answered with its code, and reads each input once. */
class HostileSubmitCmd extends Base {
  constructor(readonly what: Hostile) {
    super();
  }
  async act(r: Run): Promise<void> {
    const e = r.engine;
    const echo = r.ids.echo;
    const x = (v: unknown): never => v as never;
    let ret: number;
    let expect: Rejection = Rejection.BadParams;
    r.env.totals.hostile.values++;
    try {
      switch (this.what) {
        case 'opts-null': ret = e.submit(echo, [1, 2], 0, x(null)); break;
        case 'opts-number': ret = e.submit(echo, [1, 2], 0, x(7)); break;
        case 'bigint-tag': ret = e.submit(echo, [1, 2], x(5n)); break;
        case 'symbol-tag': ret = e.submit(echo, [1, 2], x(Symbol('t'))); break;
        case 'bigint-kind': ret = e.submit(x(BigInt(echo)), [1, 2]); expect = Rejection.UnknownKind; break;
        case 'symbol-kind': ret = e.submit(x(Symbol('k')), [1, 2]); expect = Rejection.UnknownKind; break;
        case 'bigint-param': ret = e.submit(echo, x([1n, 2])); break;
        case 'symbol-param': ret = e.submit(echo, x([Symbol('p'), 2])); break;
        case 'bigint-deadline': ret = e.submit(echo, [1, 2], 0, { deadlineFrames: x(1n) }); break;
        case 'symbol-deadline': ret = e.submit(echo, [1, 2], 0, { deadlineFrames: x(Symbol('d')) }); break;
        case 'bigint-arena-offset': ret = e.submit(r.ids.sum, [1], 0, { arenaOffset: x(0n), arenaBytes: 4 }); break;
        case 'null-arena-offset': ret = e.submit(r.ids.sum, [1], 0, { arenaOffset: x(null), arenaBytes: 4 }); break;
        case 'negative-arena-bytes': {
          const off = e.arenaAlloc(8);
          ret = off < 0 ? Rejection.BadParams : e.submit(r.ids.sum, [1], 0, { arenaOffset: off, arenaBytes: -8 });
          if (off >= 0 && !e.arenaFree(off)) r.model.errors.push('a slice refused with arenaBytes -8 could not be freed by its caller');
          if (off < 0) return;
          break;
        }
        case 'throwing-param-getter': ret = e.submit(echo, x(throwingGetter('0'))); break;
        case 'throwing-length': ret = e.submit(echo, x(throwingGetter('length'))); break;
        case 'throwing-opts-getter': ret = e.submit(echo, [1, 2], 0, x(throwingGetter('deadlineFrames'))); break;
        case 'revoked-params': ret = e.submit(echo, x(revoked([1, 2]))); break;
        case 'revoked-opts': ret = e.submit(echo, [1, 2], 0, x(revoked({}))); break;
        case 'two-faced-params': {
          // Valid at the first read of each index, out of range after: the job must get the first.
          const reads = [0, 0];
          const sly = new Proxy([0.5, 7], {
            get(target, key) {
              if (key === '0' || key === '1') {
                const i = Number(key);
                return reads[i]++ === 0 ? target[i] : 1e300;
              }
              return Reflect.get(target, key);
            },
          });
          const o = oracle(echoKind, [0.5, 7], 0, r.model.frame, null, 0);
          const id = e.submit(echo, x(sly));
          if (!r.model.shut && (reads[0] !== 1 || reads[1] !== 1)) r.model.errors.push(`submit read params [${reads}] times, not once each`);
          r.recordSubmit(id, { cls: 'echo', kind: echo, tag: 0, label: 'two-faced params', expectValues: o.values, expectArena: [], expectMessage: '' });
          return;
        }
      }
    } catch (err) {
      r.model.errors.push(`hostile submit ${this.what} threw ${String(err)} instead of answering with a code`);
      return;
    }
    r.recordSubmit(ret, { cls: 'echo', kind: echo, tag: 0, label: `hostile ${this.what}`, expectValues: [], expectArena: [], expectMessage: '' }, expect);
  }
  toString(): string {
    return `submit hostile: ${this.what}`;
  }
}

/** A caller's slice, submitted: it cannot be freed by the caller nor given to a second job while held. */
class HeldSliceCmd extends Base {
  constructor(readonly values: readonly number[]) {
    super();
  }
  async act(r: Run): Promise<void> {
    const e = r.engine;
    const input = Int32Array.from(this.values);
    const bytes = 4 * input.length;
    const off = e.arenaAlloc(bytes);
    if (off < 0) {
      if (!r.arenaInUse()) r.model.errors.push(`arenaAlloc(${bytes}) failed with no arena job in flight`);
      return;
    }
    e.arenaI32.set(input, off >> 2);
    const o = oracle(sumInputKind, [input.length], 0, r.model.frame, input, bytes);
    const id = e.submit(r.ids.sum, [input.length], 0, { arenaOffset: off, arenaBytes: bytes });
    r.recordSubmit(id, { cls: 'sum', kind: r.ids.sum, tag: 0, label: `held slice sum(${input.length})`, expectValues: o.values, expectArena: [], expectMessage: '' });
    if (id < 0) {
      if (!e.arenaFree(off)) r.model.errors.push('a refused submit did not leave its slice with the caller');
      return;
    }
    r.env.totals.hostile.heldSlices++;
    if (e.arenaFree(off)) r.model.errors.push('arenaFree freed a slice a submitted job holds (or held)');
    const again = e.submit(r.ids.sum, [input.length], 0, { arenaOffset: off, arenaBytes: bytes });
    r.recordSubmit(again, { cls: 'sum', kind: r.ids.sum, tag: 0, label: 'the same slice, submitted twice', expectValues: [], expectArena: [], expectMessage: '' }, Rejection.BadParams);
  }
  toString(): string {
    return `held slice of ${this.values.length} values`;
  }
}

/** A handler that throws something that is not an Error: the job fails `threw`, the worker stays. */
class OddThrowCmd extends Base {
  constructor(readonly what: number) {
    super();
  }
  async act(r: Run): Promise<void> {
    const ret = r.engine.submit(r.ids.odd, [this.what], 0);
    if (ret >= 0) r.env.totals.hostile.oddThrows++;
    r.recordSubmit(ret, { cls: 'odd', kind: r.ids.odd, tag: 0, label: `odd throw ${this.what}`, expectValues: [], expectArena: [], expectMessage: '' });
  }
  toString(): string {
    return `odd throwable ${this.what}`;
  }
}

/**
 * A one-worker engine of its own whose worker has no respawns left: after the worker is
 * killed, its running and queued jobs (a parallel-for job among them) fail worker-lost at
 * once, and new submits are refused; nothing waits for shutdown.
 */
class ExhaustedRespawnsCmd extends Base {
  constructor(readonly queued: number) {
    super();
  }
  async act(r: Run): Promise<void> {
    const e = await EngineCore.start({ workers: 1, heartbeatMs: 20, maxRespawnsPerMinute: 0, kindModules: [FIXTURE_KINDS] });
    const m = r.model;
    try {
      const BUSY = e.kindId('test.busy');
      const ECHO = e.kindId('test.echo');
      const RANGE = e.kindId('test.range');
      const ids = [e.submit(BUSY, [5000]), ...Array.from({ length: this.queued }, (_, i) => e.submit(ECHO, [i, i])), e.parallelFor(RANGE, [this.queued, 16, -1, 0], 16, 2)];
      if (ids.some((id) => id < 0)) m.errors.push(`exhausted-respawns engine refused a submit: ${ids}`);
      e.flush();
      const end = performance.now() + SETTLE_MS;
      while (!e.health().some((h) => h.currentJob === ids[0]) && performance.now() < end) await sleep(1);
      e.killWorker(0);
      const seen = new Map<number, string | null>();
      while (seen.size < ids.length && performance.now() < end) {
        e.poll((v) => {
          if (seen.has(v.jobId)) m.errors.push(`exhausted respawns: job ${v.jobId} delivered twice`);
          seen.set(v.jobId, v.error?.reason ?? null);
        });
        await sleep(1);
      }
      for (const id of ids) if (seen.get(id) !== 'worker-lost') m.errors.push(`exhausted respawns: job ${id} ended ${seen.get(id) ?? 'with no outcome'}, not worker-lost`);
      if (e.submit(ECHO, [1, 1]) !== Rejection.NoWorkers) m.errors.push('exhausted respawns: a submit with no worker left was not refused no-workers');
      const s = e.stats();
      if (s.submitted !== s.completed + s.failed + s.rejected + s.expired + s.cancelled + s.inFlight || s.inFlight !== 0) m.errors.push('exhausted respawns: books do not balance');
      r.env.totals.hostile.exhausted++;
    } finally {
      await e.shutdown({ timeoutMs: 200 });
    }
  }
  toString(): string {
    return `exhausted respawns with ${this.queued} queued`;
  }
}

/** Shutdown whose onResult throws or re-enters: it still completes, then rejects with that error. */
class MisbehavingShutdownCmd extends Base {
  constructor(readonly misdeed: 'throw' | 'reenter-poll') {
    super();
  }
  async act(r: Run): Promise<void> {
    const m = r.model;
    if (m.shut) return;
    m.shut = true;
    r.env.retire();
    let calls = 0;
    const boom = new Error('shutdown sink broke');
    const outcome = await r.engine
      .shutdown({
        timeoutMs: 300,
        onResult: (v) => {
          calls++;
          r.deliver(v, 'shutdown');
          if (this.misdeed === 'throw') throw boom;
          r.engine.poll(r.sink);
        },
      })
      .then(
        (report) => ({ report, error: null as unknown }),
        (error: unknown) => ({ report: null, error }),
      );
    r.env.totals.faults.shutdowns++;
    r.env.totals.hostile.callbackThrows += calls > 0 ? 1 : 0;
    if (calls > 0) {
      const want = this.misdeed === 'throw' ? boom : 'REENTRANT_CALL';
      const got = this.misdeed === 'throw' ? outcome.error : codeOf(outcome.error);
      if (got !== want) m.errors.push(`shutdown with a ${this.misdeed} callback settled with ${String(outcome.error)}`);
    }
    // Whatever had no delivery was cancelled (queued when time ran out).
    for (const id of [...m.pending]) r.cancelled(m.jobs.get(id)!);
    const s = r.engine.stats();
    if (s.inFlight !== 0) m.errors.push(`shutdown with a ${this.misdeed} callback left ${s.inFlight} job(s) in flight`);
    if (r.engine.health().some((h) => h.state !== 'dead')) m.errors.push(`shutdown with a ${this.misdeed} callback left a worker running`);
  }
  toString(): string {
    return `shutdown with a callback that does ${this.misdeed}`;
  }
}

// ---------------------------------------------------------------- generators

const tagArb = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const deadlineArb = fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined, freq: 3 });
const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('pending' as const), pick: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('finished' as const), pick: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('bogus' as const), id: fc.constantFrom(-1, 0.5, NaN, 2 ** 40, 123456789) }) },
);

const manyJobArb: fc.Arbitrary<[number, number]> = fc.tuple(
  fc.double({ noNaN: true }),
  fc.oneof({ weight: 12, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }) }, { weight: 1, arbitrary: fc.constantFrom(1.5, 2_000_000) }),
);

const submitArb: fc.Arbitrary<SubmitSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('many' as const), jobs: fc.array(manyJobArb, { maxLength: 40 }), tag: tagArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('bundle' as const),
      // Sizes spread evenly (an array arbitrary keeps most short); the values come from the seed.
      count: fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 12, arbitrary: fc.integer({ min: 1, max: 200 }) }),
      seed: fc.integer(),
      // Now and then one value out of range (1.5, or 2,000,000 for echo): the whole bundle is refused.
      spoil: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(1.5, 2_000_000)) }),
      throws: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      tag: tagArb,
    }),
  },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('echo' as const), a: fc.double({ noNaN: true }), b: fc.integer({ min: -1_000_000, max: 1_000_000 }), tag: tagArb, deadline: deadlineArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('arena' as const), seed: fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), count: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(4096, 8192)), tag: tagArb, deadline: deadlineArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('sum' as const), values: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 32 }), tag: tagArb, deadline: deadlineArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('throw' as const), code: fc.integer(), tag: tagArb, deadline: deadlineArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('range' as const),
      seed: fc.integer({ min: 0, max: 1 << 20 }),
      count: fc.integer({ min: 1, max: 300 }),
      grain: fc.constantFrom(0, 1, 3, 16, 64),
      failAt: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 299 }) }),
      background: fc.boolean(),
      after: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.array(fc.nat(1000), { minLength: 1, maxLength: 3 }) }),
      tag: tagArb,
      deadline: deadlineArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('dep' as const),
      picks: fc.array(fc.nat(1000), { minLength: 1, maxLength: 3 }),
      a: fc.integer({ min: -1000, max: 1000 }),
      b: fc.integer({ min: -1000, max: 1000 }),
      tag: tagArb,
      deadline: deadlineArb,
    }),
  },
);

/** Relative weights; faults are rarer because each costs a worker respawn (tens of ms). */
export function commandArbs(): fc.Arbitrary<Cmd>[] {
  return [
    fc.oneof(
      { weight: 30, arbitrary: submitArb.map((s): Cmd => new SubmitCmd(s)) },
      { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 20, max: 300 }), deadlineArb).map(([n, d]): Cmd => new BurstCmd(n, d)) },
      { weight: 6, arbitrary: fc.constantFrom(...MALFORMED).map((w): Cmd => new MalformedCmd(w)) },
      { weight: 14, arbitrary: fc.tuple(fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), fc.constantFrom(0, 0, 1, 3)).map(([mx, w]): Cmd => new PollCmd(mx, w)) },
      { weight: 6, arbitrary: targetArb.map((t): Cmd => new CancelCmd(t)) },
      { weight: 5, arbitrary: targetArb.map((t): Cmd => new RunInlineCmd(t)) },
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }).map((s): Cmd => new FrameCmd(s)) },
      { weight: 1, arbitrary: fc.constantFrom(0, 1, 0, 1, 2, -1, 0.5).map((i): Cmd => new KillCmd(i)) },
      { weight: 1, arbitrary: fc.constant(null).map((): Cmd => new FaultJobCmd('hang', 0)) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((c): Cmd => new FaultJobCmd('crash', c)) },
      { weight: 1, arbitrary: fc.constant(null).map((): Cmd => new ShutdownCmd()) },
      { weight: 5, arbitrary: fc.constantFrom<CallbackMisdeed>('reenter-poll', 'reenter-inline', 'submit-inside', 'cancel-inside', 'throw', 'throw-odd').map((d): Cmd => new MisbehavingPollCmd(d)) },
      { weight: 2, arbitrary: targetArb.map((t): Cmd => new ThrowingInlineCmd(t)) },
      { weight: 5, arbitrary: fc.constantFrom(...HOSTILE).map((h): Cmd => new HostileSubmitCmd(h)) },
      { weight: 2, arbitrary: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 16 }).map((v): Cmd => new HeldSliceCmd(v)) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 6 }).map((w): Cmd => new OddThrowCmd(w)) },
      { weight: 1, arbitrary: fc.constantFrom<'throw' | 'reenter-poll'>('throw', 'reenter-poll').map((d): Cmd => new MisbehavingShutdownCmd(d)) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).map((q): Cmd => new ExhaustedRespawnsCmd(q)) },
    ),
  ];
}

// ---------------------------------------------------------------- the environment

/** Owns the engine that sequences share, and the totals. */
export class FuzzEnv {
  readonly totals = emptyTotals();
  /** The command now running and when it began: what a watchdog prints if a run stalls. */
  step = 'none yet';
  private stepAt = performance.now();
  /** The first failure's message, printed when it happens: shrinking may outlast the test's time. */
  firstFailure: string | null = null;
  private engine: EngineCore | null = null;
  private stale = false;

  /** The engine for the next sequence: the current one, or a fresh one after a shutdown or a failure. */
  async begin(): Promise<Run> {
    this.enter('start of sequence');
    if (this.engine === null || this.stale) {
      // A shutdown whose callback threw rejects again with that error: expected here.
      if (this.engine !== null) await this.engine.shutdown({ timeoutMs: 500 }).catch(() => undefined);
      this.engine = await EngineCore.start({ ...FUZZ_ENGINE, kindModules: [FIXTURE_KINDS] });
      this.stale = false;
      this.totals.engines++;
    }
    this.totals.runs++;
    return new Run(this, this.engine);
  }

  /** Marks the start of a step: a command, or the start or end of a sequence. */
  enter(step: string): void {
    this.step = step;
    this.stepAt = performance.now();
  }

  /** A report of the command now running if it has run longer than STALL_MS, else null. */
  stallReport(): string | null {
    const ms = performance.now() - this.stepAt;
    return ms > STALL_MS ? `fuzz: stalled ${Math.round(ms)} ms in sequence ${this.totals.runs} at '${this.step}': ${this.describe()}` : null;
  }

  /** What the engine of the current sequence says about itself, for a stalled run's report. */
  private describe(): string {
    if (this.engine === null) return 'no engine';
    try {
      return JSON.stringify({ stats: this.engine.stats(), health: this.engine.health() });
    } catch (err) {
      return `engine unreadable: ${String(err)}`;
    }
  }

  /** The current engine must not serve another sequence. */
  retire(): void {
    this.stale = true;
  }

  async close(): Promise<void> {
    if (this.engine !== null) await this.engine.shutdown({ timeoutMs: 500 }).catch(() => undefined);
    this.engine = null;
  }
}

/** The property: a generated sequence runs to the end with the engine agreeing with the model throughout. */
export function fuzzProperty(env: FuzzEnv, maxCommands: number): fc.IAsyncPropertyWithHooks<[Iterable<Cmd>]> {
  return fc.asyncProperty(fc.commands(commandArbs(), { maxCommands, size: 'max' }), async (cmds) => {
    const run = await env.begin();
    try {
      await fc.asyncModelRun(() => ({ model: run.model, real: run }), cmds);
      env.enter('end of sequence');
      await run.finish();
    } catch (err) {
      // Whatever the failure left in flight must not leak into the next (shrinking) sequence.
      env.retire();
      if (env.firstFailure === null) {
        env.firstFailure = err instanceof Error ? err.message : String(err);
        console.error(`fuzz: first failure, in sequence ${env.totals.runs} at '${env.step}':\n${env.firstFailure}\nsequence: ${String(cmds)}`);
      }
      throw err;
    }
  });
}

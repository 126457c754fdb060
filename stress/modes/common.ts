/**
 * What the engine-driven runs (burst, frame, chaos, and the panel's Stress Test) share:
 * their options, and a MeasuredRun: the books, the collect phase, and turning the ledger
 * plus the engine's own counters into a StressResult.
 */
import type { EngineStats, ResultView } from '../../engine/api.js';
import type { EngineCore } from '../../engine/core.js';
import { sleep } from '../../game/time.js';
import { Ledger } from '../report/ledger.js';
import type { FaultCounts, FrameStats, StressMode, StressResult } from '../report/result.js';
import { Sampler } from '../report/sampler.js';

export interface ModeOptions {
  readonly seconds: number;
  readonly workers: number;
  readonly seed: number;
  /** Called from the run loop; `detail` is built only if the caller shows it. */
  readonly onProgress?: (fraction: number, now: number, detail: () => string) => void;
  /** Most time to wait for outstanding jobs (and for respawns) after the submit phase, ms. Default 10000. */
  readonly collectTimeoutMs?: number;
  /**
   * Records the job timeline (EngineOptions.trace) and hands the engine to this once it
   * has shut down, to export it (engine.exportTrace()).
   */
  readonly traceTo?: (engine: EngineCore) => void;
}

/** Job slots of the stress engines (the engine default); the ledger is sized to match. */
export const JOB_CAPACITY = 16384;

/** Workers that are up: alive, or alive but slow to beat (stale). */
export function aliveWorkers(engine: EngineCore): number {
  let n = 0;
  for (const h of engine.health()) if (h.state === 'alive' || h.state === 'stale') n++;
  return n;
}

/** In burst and frame modes no failure is expected. */
export const noFailureExpected = (_r: ResultView): boolean => false;

/** What a finished run adds to its books: the mode, its options, and what only the mode knows. */
export interface RunSummary {
  readonly mode: StressMode;
  readonly o: Pick<ModeOptions, 'seconds' | 'seed'>;
  /** Workers the run killed on purpose. */
  readonly killed?: number;
  readonly frames?: FrameStats;
  readonly faults?: FaultCounts;
  readonly notes?: readonly string[];
}

/**
 * One measured run on one engine, from the first submit it counts to its StressResult:
 * its ledger, its sampler, the engine's counters when it began (so warm-up is left out),
 * and the poll that feeds every result to the ledger with the time of that poll.
 * The ledger's figures are the ones reported; `finish` cross-checks the engine's own
 * counters against them. Main thread only; `poll` allocates nothing.
 */
export class MeasuredRun {
  readonly ledger: Ledger;
  readonly sampler: Sampler;
  /** Engine counters when the run began. */
  readonly base: EngineStats;
  readonly t0: number;
  /** When the submit phase ended (`endSubmit`). */
  submitEnd = 0;
  private pollNow = 0;
  private readonly onResult: (r: ResultView) => void;

  /**
   * `expected(r)`: whether a failure is explained by an injected fault. `onCompleted` sees
   * every result the ledger accepted as the one awaited (not a duplicate), before the
   * next. `kindCount`: per-kind figures for kinds 0 .. kindCount-1.
   */
  constructor(
    readonly engine: EngineCore,
    jobCapacity: number,
    expected: (r: ResultView) => boolean = noFailureExpected,
    onCompleted?: (r: ResultView) => void,
    kindCount = 0,
  ) {
    this.ledger = new Ledger(jobCapacity, kindCount);
    this.base = engine.stats();
    this.t0 = performance.now();
    this.sampler = new Sampler(this.t0);
    const ledger = this.ledger;
    this.onResult = onCompleted
      ? (r) => {
          if (ledger.onResult(r, this.pollNow, expected) >= 0) onCompleted(r);
        }
      : (r) => {
          ledger.onResult(r, this.pollNow, expected);
        };
  }

  /** Delivers every finished result to the ledger (and `onCompleted`). */
  readonly poll = (): void => {
    this.pollNow = performance.now();
    this.engine.poll(this.onResult);
  };

  /** Samples throughput and queue depth if the sampling interval has passed. */
  tick(now: number): void {
    this.sampler.tick(now, this.ledger.completed, this.ledger.pending);
  }

  endSubmit(): void {
    this.submitEnd = performance.now();
  }

  /**
   * After the submit phase: polls until every accepted job has an outcome and every
   * worker is back up (a worker killed or hung near the end is still respawning), or
   * until the timeout.
   */
  async collect(timeoutMs: number): Promise<void> {
    const { engine, ledger } = this;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.poll();
      const now = performance.now();
      this.tick(now);
      if (ledger.pending === 0 && engine.inFlight === 0 && aliveWorkers(engine) === engine.workerCount) return;
      if (now >= deadline) return;
      await sleep(1);
    }
  }

  /** Ends the run and builds its result. Call before shutdown, after collecting. */
  finish(x: RunSummary): StressResult {
    const { engine, ledger } = this;
    const tEnd = performance.now();
    this.sampler.take(tEnd, ledger.completed, ledger.pending);
    const s = engine.stats();
    const inFlight = engine.inFlight;
    const notes = [...(x.notes ?? [])];
    const rejected = ledger.rejected;
    const outcomes = ledger.completed + ledger.failed + ledger.expired + ledger.cancelled + rejected;
    // The engine's view of lost: it says these jobs are not in flight, yet the ledger saw no outcome.
    const lost = ledger.submitted - outcomes - inFlight;
    // Cross-check the engine's own counters over the measured window against the ledger.
    const d = (k: 'submitted' | 'completed' | 'failed' | 'expired' | 'cancelled' | 'rejected'): number => s[k] - this.base[k];
    const mine = { submitted: ledger.submitted, completed: ledger.completed, failed: ledger.failed, expired: ledger.expired, cancelled: ledger.cancelled, rejected };
    for (const k of Object.keys(mine) as (keyof typeof mine)[]) {
      if (d(k) !== mine[k]) notes.push(`engine counter ${k} moved by ${d(k)} but the run counted ${mine[k]}`);
    }
    if (ledger.pending !== inFlight) notes.push(`run still awaits ${ledger.pending} job(s), engine reports ${inFlight} in flight`);
    if (ledger.vanished > 0) notes.push(`${ledger.vanished} job slot(s) reissued before their job had an outcome`);
    if (engine.staleRecords > 0) notes.push(`${engine.staleRecords} stale result record(s) skipped by the engine (never applied)`);
    const testS = (tEnd - this.t0) / 1000;
    return {
      engine: 'framejobs',
      mode: x.mode,
      seed: x.o.seed,
      seconds: x.o.seconds,
      workers: { configured: engine.workerCount, alive: aliveWorkers(engine), respawned: s.respawns - this.base.respawns, killed: x.killed ?? 0 },
      jobs: {
        submitted: ledger.submitted,
        received: ledger.received,
        completed: ledger.completed,
        failed: ledger.failed,
        rejected,
        expired: ledger.expired,
        cancelled: ledger.cancelled,
        inFlight,
        lost,
        duplicates: ledger.duplicates,
      },
      rejectedByReason: ledger.rejectedByReason(),
      failedByReason: ledger.failedByReason,
      unexpectedFailed: ledger.unexpectedFailed,
      throughputPerS: ledger.completed / testS,
      latencyMs: ledger.latency.summary(),
      histogram: ledger.latency.histogram(),
      timing: { testS, submitS: (this.submitEnd - this.t0) / 1000, collectS: (tEnd - this.submitEnd) / 1000 },
      samples: this.sampler.samples(),
      frames: x.frames,
      faults: x.faults,
      byKind: ledger.byKind(engine.kinds.map((k) => k.name)),
      notes,
    };
  }
}

/**
 * What the engine-driven modes (burst, frame, chaos) share: their options, the
 * collect phase, and turning the ledger plus the engine's own counters into a
 * StressResult. The ledger's figures are the ones reported; the engine's counters are
 * cross-checked against them and any disagreement is reported as an issue.
 */
import type { EngineStats, ResultView } from '../../engine/api.js';
import type { EngineCore } from '../../engine/core.js';
import { sleep } from '../../game/time.js';
import type { Ledger } from '../report/ledger.js';
import type { FaultCounts, FrameStats, StressMode, StressResult } from '../report/result.js';
import type { Sampler } from '../report/sampler.js';

export interface ModeOptions {
  readonly seconds: number;
  readonly workers: number;
  readonly seed: number;
  /** Called from the run loop; `detail` is built only if the caller shows it. */
  readonly onProgress?: (fraction: number, now: number, detail: () => string) => void;
  /** Most time to wait for outstanding jobs (and for respawns) after the submit phase, ms. Default 10000. */
  readonly collectTimeoutMs?: number;
}

/** Job slots of the stress engines (the engine default); the ledger is sized to match. */
export const JOB_CAPACITY = 16384;

/** Workers that are up: alive, or alive but slow to beat (stale). */
export function aliveWorkers(engine: EngineCore): number {
  let n = 0;
  for (const h of engine.health()) if (h.state === 'alive' || h.state === 'stale') n++;
  return n;
}

/**
 * After the submit phase: polls until every accepted job has an outcome and every
 * worker is back up (a worker killed or hung near the end is still respawning), or
 * until the timeout. Results keep going through `onResult` with their poll time.
 */
export async function collect(
  engine: EngineCore,
  ledger: Ledger,
  poll: () => void,
  sampler: Sampler,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    poll();
    const now = performance.now();
    sampler.tick(now, ledger.completed, ledger.pending);
    if (ledger.pending === 0 && engine.inFlight === 0 && aliveWorkers(engine) === engine.workerCount) return;
    if (now >= deadline) return;
    await sleep(1);
  }
}

export interface BuildInput {
  readonly mode: StressMode;
  readonly o: ModeOptions;
  readonly engine: EngineCore;
  readonly ledger: Ledger;
  /** Engine counters when the measured run began (after warm-up). */
  readonly base: EngineStats;
  readonly sampler: Sampler;
  readonly t0: number;
  readonly submitEnd: number;
  readonly tEnd: number;
  readonly killed: number;
  readonly frames?: FrameStats;
  readonly faults?: FaultCounts;
  readonly notes?: string[];
}

/** The result of an engine run. Call before shutdown, after collect. */
export function buildResult(x: BuildInput): StressResult {
  const { engine, ledger } = x;
  const s = engine.stats();
  const inFlight = engine.inFlight;
  const notes = [...(x.notes ?? [])];
  const rejected = ledger.rejected;
  const outcomes = ledger.completed + ledger.failed + ledger.expired + ledger.cancelled + rejected;
  // The engine's view of lost: it says these jobs are not in flight, yet the ledger saw no outcome.
  const lost = ledger.submitted - outcomes - inFlight;
  // Cross-check the engine's own counters over the measured window against the ledger.
  const d = (k: 'submitted' | 'completed' | 'failed' | 'expired' | 'cancelled' | 'rejected'): number => s[k] - x.base[k];
  const mine = { submitted: ledger.submitted, completed: ledger.completed, failed: ledger.failed, expired: ledger.expired, cancelled: ledger.cancelled, rejected };
  for (const k of Object.keys(mine) as (keyof typeof mine)[]) {
    if (d(k) !== mine[k]) notes.push(`engine counter ${k} moved by ${d(k)} but the run counted ${mine[k]}`);
  }
  if (ledger.pending !== inFlight) notes.push(`run still awaits ${ledger.pending} job(s), engine reports ${inFlight} in flight`);
  if (ledger.vanished > 0) notes.push(`${ledger.vanished} job slot(s) reissued before their job had an outcome`);
  if (engine.staleRecords > 0) notes.push(`${engine.staleRecords} stale result record(s) skipped by the engine (never applied)`);
  const testS = (x.tEnd - x.t0) / 1000;
  return {
    engine: 'framejobs',
    mode: x.mode,
    seed: x.o.seed,
    seconds: x.o.seconds,
    workers: { configured: engine.workerCount, alive: aliveWorkers(engine), respawned: s.respawns - x.base.respawns, killed: x.killed },
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
    failedByReason: { ...ledger.failedByReason },
    unexpectedFailed: ledger.unexpectedFailed,
    throughputPerS: ledger.completed / testS,
    latencyMs: ledger.latency.summary(),
    histogram: ledger.latency.histogram(),
    timing: { testS, submitS: (x.submitEnd - x.t0) / 1000, collectS: (x.tEnd - x.submitEnd) / 1000 },
    samples: x.sampler.samples(),
    frames: x.frames,
    faults: x.faults,
    byKind: ledger.byKind(engine.kinds.map((k) => k.name)),
    notes,
  };
}

/** In burst and frame modes no failure is expected. */
export const noFailureExpected = (_r: ResultView): boolean => false;

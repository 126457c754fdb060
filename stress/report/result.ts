/**
 * The shape every stress run produces, whichever engine ran it (framejobs or a peer
 * pool). Grading (grade.ts), the terminal report (text.ts), the HTML page (html.ts)
 * and the --json line all read this one object, so a run is measured once and
 * presented many ways.
 */
import { FRAME_MS } from '../../game/time.js';

export type StressMode = 'burst' | 'frame' | 'chaos';

export interface LatencySummary {
  /** Jobs the summary covers (accepted jobs that completed). */
  readonly count: number;
  readonly avg: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface JobCounts {
  /** submit() calls, accepted or not. */
  readonly submitted: number;
  /** Outcomes seen through poll (completed + failed + expired), plus cancels confirmed at cancel(). */
  readonly received: number;
  readonly completed: number;
  readonly failed: number;
  /** Refused at submit with a reason (see rejectedByReason). */
  readonly rejected: number;
  readonly expired: number;
  readonly cancelled: number;
  /** Still in flight when the run ended (after the collect phase). */
  readonly inFlight: number;
  /** submitted - every outcome - inFlight. Anything but 0 is a bug. */
  readonly lost: number;
  /** Results delivered twice for one job id. Anything but 0 is a bug. */
  readonly duplicates: number;
}

export interface WorkerCounts {
  readonly configured: number;
  /** Alive at the end of the run. */
  readonly alive: number;
  /** Respawns the engine performed (after kills, hangs or crashes). */
  readonly respawned: number;
  /** Workers the stress run killed on purpose (chaos). */
  readonly killed: number;
}

/** Time series sampled during the run, for the HTML charts. Same length arrays. */
export interface Samples {
  /** Sample time since the start of the run, ms. */
  readonly tMs: number[];
  /** Jobs completed per second over the sample interval. */
  readonly throughput: number[];
  /** Jobs accepted but not yet received at sample time. */
  readonly queueDepth: number[];
}

/** Latency histogram over completed jobs; log2 buckets in ms. */
export interface Histogram {
  /** Upper bound of each bucket, ms. The last bucket is open-ended (Infinity). */
  readonly boundsMs: number[];
  readonly counts: number[];
}

/** Faults injected by chaos mode. */
export interface FaultCounts {
  readonly kills: number;
  readonly hangs: number;
  readonly throws: number;
  readonly malformed: number;
  /** Malformed submits refused at submit (bad-params): the engine should refuse all of them. */
  readonly malformedRejected: number;
}

/** Frame-paced modes: how the 30 Hz loop fared. */
export interface FrameStats {
  readonly frames: number;
  /** Frames whose main-thread work (submit + poll + apply) took longer than a frame. */
  readonly overruns: number;
  /** Main-thread time per frame spent in the engine (submit + poll + apply), ms. */
  readonly mainThreadMs: LatencySummary;
  /** Results by how many frames after their submit frame they were applied: [0, 1, 2, 3+]. */
  readonly appliedAfterFrames: number[];
}

/** Outcomes and latency of one job kind. */
export interface KindFigures {
  readonly kind: string;
  readonly completed: number;
  readonly failed: number;
  readonly expired: number;
  readonly latencyMs: LatencySummary;
}

export interface MachineLimit {
  /** Jobs per second one thread does running the handler back to back. */
  readonly perThreadPerS: number;
  readonly cores: number;
  /** perThreadPerS x cores. */
  readonly limitPerS: number;
  /** Completed jobs per second over limitPerS. */
  readonly ratio: number;
}

export interface StressResult {
  readonly engine: string;
  readonly mode: StressMode;
  readonly seed: number;
  /** Requested length of the submit phase, s. */
  readonly seconds: number;
  readonly workers: WorkerCounts;
  readonly jobs: JobCounts;
  readonly rejectedByReason: Readonly<Record<string, number>>;
  readonly failedByReason: Readonly<Record<string, number>>;
  /**
   * Failures not explained by an injected fault (a job of a fault kind that threw or hung,
   * or a job whose worker chaos killed). In burst and frame modes every failure is unexpected.
   */
  readonly unexpectedFailed: number;
  /** Completed jobs per second of test time (submit + collect). */
  readonly throughputPerS: number;
  /** Submit to the poll that delivered the result, completed jobs only. */
  readonly latencyMs: LatencySummary;
  readonly histogram: Histogram;
  readonly timing: { readonly testS: number; readonly submitS: number; readonly collectS: number };
  readonly samples: Samples;
  readonly frames?: FrameStats;
  readonly faults?: FaultCounts;
  /** Per job kind, when the run had more than one. */
  readonly byKind?: readonly KindFigures[];
  /** Anything the runner noticed that the grade should mention (free text, one per line). */
  readonly notes: string[];
  /**
   * Burst mode: the machine's limit for this job, the kind's handler run back to back on
   * one thread (no engine) times the cores, and the run's throughput as a share of it.
   */
  readonly limit?: MachineLimit;
}

/** Converts a ms summary into frames. */
export function inFrames(s: LatencySummary): LatencySummary {
  return { count: s.count, avg: s.avg / FRAME_MS, p50: s.p50 / FRAME_MS, p99: s.p99 / FRAME_MS, max: s.max / FRAME_MS };
}

export const EMPTY_LATENCY: LatencySummary = { count: 0, avg: 0, p50: 0, p99: 0, max: 0 };

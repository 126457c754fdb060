/**
 * What the browser bench's runner (run.ts, Node) and its page (bench.entry.ts, Chromium)
 * agree on: the run's settings, passed to the page in its URL query, and the report the
 * page leaves on `window.framejobsBench` when it is done.
 *
 * Runs on both sides: nothing here imports from Node or the DOM.
 */

/** The four ways of getting a tiny function run on another thread, side by side. */
export const PEERS = ['engine', 'comlink', 'workerpool', 'postmessage'] as const;
export type PeerName = (typeof PEERS)[number];

export interface BenchConfig {
  /** Worker threads for every peer; undefined: the engine's default, and the same count for the others. */
  readonly workers: number | undefined;
  /** Seconds of tiny jobs per peer per pass. */
  readonly seconds: number;
  /** Passes over the four peers, interleaved, so drift shows as a spread, not as a ratio. */
  readonly passes: number;
  /** Jobs (calls, messages) kept in flight by each peer's throughput loop. */
  readonly window: number;
  /** Round trips timed per peer, after a warm-up. */
  readonly roundTrips: number;
  /** Round trips timed per peer with the system left idle (asleep) before each. */
  readonly sleepyRoundTrips: number;
  /** 30 Hz frames timed for the frame budget, after a warm-up, per engine (frame pacing off, on). */
  readonly frames: number;
  /** Rounds the frames come in, the two engines taking turns. */
  readonly frameRounds: number;
  /** COMPUTE_HEAVY jobs submitted per frame. */
  readonly jobsPerFrame: number;
}

/** Frame-budget frames each engine runs untimed before its first round: every path compiled, the workers' run-time estimates settled. */
export const WARM_FRAMES = 30;

export const FULL: BenchConfig = {
  workers: undefined,
  seconds: 2.5,
  passes: 2,
  window: 2048,
  roundTrips: 3000,
  sleepyRoundTrips: 150,
  frames: 300,
  frameRounds: 3,
  jobsPerFrame: 1000,
};

/** A few seconds in all: for the test suite, which checks behaviour, not figures. */
export const QUICK: BenchConfig = {
  workers: undefined,
  seconds: 0.3,
  passes: 1,
  window: 512,
  roundTrips: 200,
  sleepyRoundTrips: 10,
  frames: 20,
  frameRounds: 2,
  jobsPerFrame: 1000,
};

/** Query string that carries `c` to the page. */
export function configQuery(c: BenchConfig): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(c)) if (v !== undefined) q.set(k, String(v));
  return q.toString();
}

/** Reads a config back from a query string; absent or malformed fields take `base`'s value. */
export function parseConfigQuery(query: string, base: BenchConfig = FULL): BenchConfig {
  const q = new URLSearchParams(query);
  const num = (k: keyof BenchConfig, min: number): number | undefined => {
    const raw = q.get(k);
    if (raw === null) return undefined;
    const n = Number(raw);
    return Number.isFinite(n) && n >= min ? n : undefined;
  };
  const int = (k: keyof BenchConfig, min: number): number | undefined => {
    const n = num(k, min);
    return n !== undefined && Number.isInteger(n) ? n : undefined;
  };
  return {
    workers: int('workers', 1) ?? base.workers,
    seconds: num('seconds', 0.01) ?? base.seconds,
    passes: int('passes', 1) ?? base.passes,
    window: int('window', 1) ?? base.window,
    roundTrips: int('roundTrips', 1) ?? base.roundTrips,
    sleepyRoundTrips: int('sleepyRoundTrips', 1) ?? base.sleepyRoundTrips,
    frames: int('frames', 1) ?? base.frames,
    frameRounds: int('frameRounds', 1) ?? base.frameRounds,
    jobsPerFrame: int('jobsPerFrame', 1) ?? base.jobsPerFrame,
  };
}

/** Every job a run submitted, and how it came back. A correct run has only `submitted === ok`. */
export interface Verification {
  readonly submitted: number;
  /** Came back exactly once, with the right value. */
  readonly ok: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly wrong: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PeerReport {
  /** Jobs per second of each pass. */
  readonly passes: readonly number[];
  /** The best pass. */
  readonly perSecond: number;
  /** One job at a time, back to back, µs. */
  readonly roundTripUs: Percentiles;
  /** One job at a time after a few ms of idleness (every thread asleep), µs. */
  readonly sleepyRoundTripUs: Percentiles;
  /** Every throughput and round-trip job of this peer. */
  readonly verification: Verification;
}

/** An engine's main-thread time per frame, ms. */
export interface FrameBudget extends Percentiles {
  readonly jobsPerFrame: number;
  readonly refused: number;
  /** Frames timed. */
  readonly frames: number;
  /** Each round's p99, in the order run. */
  readonly roundP99: readonly number[];
  /** The page thread's wake-ups of sleeping workers in the rounds (EngineStats.wakes): how many, and their time in all, ms. */
  readonly wakes: { readonly count: number; readonly ms: number };
}

/** What the page leaves on `window.framejobsBench`. */
export interface PageReport {
  readonly config: BenchConfig;
  readonly workers: number;
  readonly hardwareConcurrency: number;
  readonly crossOriginIsolated: boolean;
  readonly userAgent: string;
  readonly peers: Readonly<Record<PeerName, PeerReport>>;
  /** The engine's tiny jobs submitted in bundles of 1,024 (submitBundle), one pass after each of its own. */
  readonly engineBundled: { readonly passes: readonly number[]; readonly perSecond: number; readonly verification: Verification };
  /**
   * The engine's round trips taken apart, µs: `pickup` is submit to the handler's start
   * (publish, wake-up), `delivery` the result's publish to the poll that saw it.
   */
  readonly engineRoundTripParts: Readonly<Record<'backToBack' | 'afterIdle', { readonly pickup: Percentiles; readonly delivery: Percentiles }>>;
  /** The engine's main-thread time per 30 Hz frame (beginFrame + poll + submits), ms, with the default options. */
  readonly frameBudgetMs: FrameBudget;
  /** The same with EngineOptions.framePacing on, in rounds taking turns with the default engine's. */
  readonly frameBudgetPacedMs: FrameBudget;
  /** Every frame-budget job of both engines: exactly once, with the handler's own value. */
  readonly frameVerification: Verification;
  /** Wall time of the page's whole run, s. */
  readonly seconds: number;
}

/** Where the page puts its report, and its error when it fails. */
export const REPORT_GLOBAL = 'framejobsBench';
export const ERROR_GLOBAL = 'framejobsBenchError';

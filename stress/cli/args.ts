/**
 * Command-line options of `npm run stress`, validated once here (node:util parseArgs,
 * through game/cli-args.ts). Bad options throw EngineError('INVALID_OPTION') naming the
 * option and what it accepts.
 */
import { EngineError } from '../../engine/errors.js';
import { choiceOption, cliOptions, integerIn, numberIn, numberOption, parseCli } from '../../game/cli-args.js';
import type { StressMode } from '../report/result.js';

export const PEERS = ['piscina'] as const;
export type Peer = (typeof PEERS)[number];
export const MODES: readonly StressMode[] = ['burst', 'frame', 'chaos'];

export interface StressOptions {
  /** Default burst. */
  readonly mode: StressMode;
  /** Length of the submit phase in seconds (fractions allowed). Default 5. */
  readonly seconds: number;
  /** Worker threads; 0 runs every job inline. Default 4. */
  readonly workers: number;
  /** Seed for job parameters and fault timing. Default 1. */
  readonly seed: number;
  /** Print the JSON summary as the last line of stdout. */
  readonly json: boolean;
  /** Run the same burst workload through these peers in the same run. */
  readonly vs: readonly Peer[];
  /** Write a self-contained HTML report here. */
  readonly html: string | null;
  /** Record the job timeline and write it here as Chrome trace JSON (Perfetto, chrome://tracing). */
  readonly trace: string | null;
  readonly help: boolean;
}

export const DEFAULTS: StressOptions = {
  mode: 'burst',
  seconds: 5,
  workers: 4,
  seed: 1,
  json: false,
  vs: [],
  html: null,
  trace: null,
  help: false,
};

export const USAGE = `Usage: npm run stress -- [options]

  --mode burst|frame|chaos  burst: submit the seed's COMPUTE_HEAVY job as fast as possible (default)
                            frame: 30 Hz frames of the game's job kinds, results applied each frame
                            chaos: frame plus a worker killed every second, hanging, throwing and malformed jobs
  --seconds N               length of the submit phase in seconds (default 5)
  --workers N               worker threads, 0 to run inline (default 4)
  --seed N                  seed for parameters and fault timing (default 1)
  --json                    print one JSON object as the last line of stdout
  --vs piscina              run the same burst workload through piscina and compare (burst only)
  --html FILE               write the report with charts as one self-contained HTML page
  --trace FILE              record the job timeline and write it as Chrome trace JSON (open in ui.perfetto.dev)
  --help                    this text`;

const OPTIONS = cliOptions(['mode', 'seconds', 'workers', 'seed', 'html', 'trace'], ['json'], ['vs']);

/** Parses argv (without node and the script). Accepts `--opt value` and `--opt=value`. */
export function parseArgs(argv: readonly string[]): StressOptions {
  const v = parseCli(argv, OPTIONS);
  const vs: Peer[] = [];
  for (const peer of (v.vs as string[] | undefined) ?? []) {
    if (!PEERS.includes(peer as Peer)) bad(`--vs must be one of ${PEERS.join(', ')}, got ${JSON.stringify(peer)}`);
    if (!vs.includes(peer as Peer)) vs.push(peer as Peer);
  }
  const html = v.html as string | undefined;
  if (html === '') bad('--html needs a file name');
  const trace = v.trace as string | undefined;
  if (trace === '') bad('--trace needs a file name');
  const o: StressOptions = {
    mode: choiceOption(v, 'mode', MODES, DEFAULTS.mode),
    seconds: numberOption(v, 'seconds', numberIn(0, 3600, true), DEFAULTS.seconds),
    workers: numberOption(v, 'workers', integerIn(0, 64), DEFAULTS.workers),
    seed: numberOption(v, 'seed', integerIn(0, 0x7fffffff), DEFAULTS.seed),
    json: v.json === true,
    vs,
    html: html ?? DEFAULTS.html,
    trace: trace ?? DEFAULTS.trace,
    help: v.help === true,
  };
  // The peers run the seed's burst workload; beside a frame or chaos run the columns would compare different tests.
  if (o.vs.length > 0 && o.mode !== 'burst') bad(`--vs ${o.vs[0]} compares the burst workload: use it with --mode burst, not --mode ${o.mode}`);
  return o;
}

function bad(msg: string): never {
  throw new EngineError('INVALID_OPTION', msg);
}

/**
 * Command-line options of `npm run stress`, validated once here. Bad options throw
 * EngineError('INVALID_OPTION') naming the option and what it accepts.
 */
import { EngineError } from '../../engine/errors.js';
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
  --help                    this text`;

function bad(msg: string): never {
  throw new EngineError('INVALID_OPTION', msg);
}

function num(name: string, raw: string | undefined, check: (n: number) => boolean, what: string): number {
  if (raw === undefined || raw.startsWith('--')) bad(`--${name} needs a value: ${what}`);
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) bad(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Parses argv (without node and the script). Accepts `--opt value` and `--opt=value`. */
export function parseArgs(argv: readonly string[]): StressOptions {
  const o = { ...DEFAULTS, vs: [] as Peer[] };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    const flag = (): true => {
      if (inline !== undefined) bad(`${arg} takes no value`);
      return true;
    };
    switch (arg) {
      case '--mode': {
        const v = value();
        if (!MODES.includes(v as StressMode)) bad(`--mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(v)}`);
        o.mode = v as StressMode;
        break;
      }
      case '--seconds':
        o.seconds = num('seconds', value(), (n) => n > 0 && n <= 3600, 'a number of seconds in (0, 3600]');
        break;
      case '--workers':
        o.workers = num('workers', value(), (n) => Number.isInteger(n) && n >= 0 && n <= 64, 'an integer from 0 to 64');
        break;
      case '--seed':
        o.seed = num('seed', value(), (n) => Number.isInteger(n) && n >= 0 && n <= 0x7fffffff, 'an integer from 0 to 2147483647');
        break;
      case '--json':
        o.json = flag();
        break;
      case '--vs': {
        const v = value();
        if (!PEERS.includes(v as Peer)) bad(`--vs must be one of ${PEERS.join(', ')}, got ${JSON.stringify(v)}`);
        if (!o.vs.includes(v as Peer)) o.vs.push(v as Peer);
        break;
      }
      case '--html': {
        const v = value();
        if (v === undefined || v === '' || v.startsWith('--')) bad('--html needs a file name');
        o.html = v;
        break;
      }
      case '--help':
      case '-h':
        o.help = flag();
        break;
      default:
        bad(`unknown option ${JSON.stringify(argv[i])}; see --help`);
    }
  }
  // The peers run the seed's burst workload; beside a frame or chaos run the columns would compare different tests.
  if (o.vs.length > 0 && o.mode !== 'burst') bad(`--vs ${o.vs[0]} compares the burst workload: use it with --mode burst, not --mode ${o.mode}`);
  return o;
}

/**
 * `npm run sweep -- [--workers N] [--seed S] [--quick] [--grid full|quick|tiny]
 *                   [--out FILE] [--resume] [--commit-ms N] [--json] [--help]`
 *
 * Tunes the game's AI by exhaustive search: every point of a grid of AI parameters
 * (re-plan interval, agent speed, goal radius, prediction horizon) is played by several
 * seeded headless runs of the deterministic game, each one job on the engine's worker
 * threads, and scored by what a designer looks at (goals reached, agents under predicted
 * impacts, path jobs, cells walked per goal). One line per task goes to the result file
 * in task order, checkpointed so that a killed run continues with --resume and ends with
 * the same bytes. With --json the last stdout line is one JSON object.
 *
 * Exit codes: 0 every task done; 1 some task failed, or an error; 2 bad options;
 * 3 checkpoint refused (corrupt, another sweep's, or its result file changed);
 * 130 interrupted (SIGINT/SIGTERM; what was done is committed, --resume continues).
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../remote/errors.js';
import { createBullmqSweepBackend, type BullmqSweepBackend } from '../../remote/sweep-backend.js';
import { createEngineBackend, type SweepBackend } from './backend.js';
import { SweepError } from './checkpoint.js';
import { GRIDS, GRID_NAMES, SweepPlan, type GridName } from './grid.js';
import { CONFIG_LEVELS_ON_MAIN } from './kinds.js';
import { defaultWorkers, runSweep, type SweepSummary } from './sweep.js';
import { builtModuleUrl } from '../../engine/paths.js';

export const USAGE =
  'usage: npm run sweep -- [--workers N] [--seed S] [--quick] [--grid full|quick|tiny] [--out FILE] [--resume] [--commit-ms N] [--json] [--help]\n' +
  '       npm run sweep -- --backend bullmq --redis URL [--spawn-workers N] [the options above]';

const HELP = `${USAGE}

  --workers N     worker threads (0: every task on this thread). Default: the machine's cores (${defaultWorkers()}).
  --seed S        sweep seed (integer): run r of every point plays seed taskSeed(S, r). Default 1.
  --quick         the small grid (same as --grid quick); under 30 s on 2 cores.
  --grid NAME     full (default), quick or tiny (the tests' grid).
  --out FILE      result file, one JSON line per task. Default sweep-results.jsonl; the
                  checkpoint is FILE.ckpt.
  --resume        continue from FILE.ckpt (refused if it is corrupt or another sweep's).
  --commit-ms N   write lines and checkpoint at most every N ms, and at most N ms after a
                  result arrives (0: after every task). Default 100.
  --json          the last stdout line is one JSON object:
                  {"tasks","completed","failed","resumed","result_sha256","tasks_per_s",...}
  --help          this text.

  --backend NAME  engine (default: this machine's worker threads) or bullmq (remote
                  workers through a BullMQ queue on Redis; the same result file).
  --redis URL     redis://[user:password@]host:port for --backend bullmq (or set
                  FRAMEJOBS_REDIS_URL). The password is never printed.
  --spawn-workers N  start N \`framejobs worker\` processes on this machine, each with
                  --workers threads (default 0: workers started elsewhere take the tasks).
                  With bullmq the JSON line adds "backend","duplicates","redelivered".
`;

export interface CliOptions {
  workers: number;
  seed: number;
  grid: GridName;
  out: string;
  resume: boolean;
  commitMs: number;
  json: boolean;
  help: boolean;
  /** Set only with --backend bullmq (the engine backend is the default). */
  backend?: 'bullmq';
  redis?: string;
  spawnWorkers?: number;
}

export class UsageError extends Error {}

const intArg = (name: string, v: string | undefined, min: number, max: number, def: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
};

/** Parses argv (without node and the script). Throws UsageError for anything it does not accept. */
export function parseSweepArgs(argv: readonly string[]): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        workers: { type: 'string' },
        seed: { type: 'string' },
        quick: { type: 'boolean' },
        grid: { type: 'string' },
        out: { type: 'string' },
        resume: { type: 'boolean' },
        'commit-ms': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        backend: { type: 'string' },
        redis: { type: 'string' },
        'spawn-workers': { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const grid = values.grid as string | undefined;
  if (grid !== undefined && !GRID_NAMES.includes(grid as GridName)) throw new UsageError(`--grid must be one of ${GRID_NAMES.join(', ')}, got ${JSON.stringify(grid)}`);
  if (values.quick === true && grid !== undefined && grid !== 'quick') throw new UsageError(`--quick is --grid quick; it cannot go with --grid ${grid}`);
  const out = values.out as string | undefined;
  if (out !== undefined && out.trim() === '') throw new UsageError('--out needs a file name');
  return {
    workers: intArg('workers', values.workers as string | undefined, 0, 64, defaultWorkers()),
    seed: intArg('seed', values.seed as string | undefined, -0x80000000, 0x7fffffff, 1),
    grid: values.quick === true ? 'quick' : ((grid as GridName | undefined) ?? 'full'),
    out: out ?? 'sweep-results.jsonl',
    resume: values.resume === true,
    commitMs: intArg('commit-ms', values['commit-ms'] as string | undefined, 0, 3_600_000, 100),
    json: values.json === true,
    help: values.help === true,
    ...remoteArgs(values),
  };
}

/** --backend, --redis, --spawn-workers: only with bullmq, which needs a Redis URL. */
function remoteArgs(values: Record<string, string | boolean | undefined>): Pick<CliOptions, 'backend' | 'redis' | 'spawnWorkers'> {
  const backend = values.backend as string | undefined;
  if (backend !== undefined && backend !== 'engine' && backend !== 'bullmq') throw new UsageError(`--backend must be engine or bullmq, got ${JSON.stringify(backend)}`);
  if (backend !== 'bullmq') {
    if (values.redis !== undefined || values['spawn-workers'] !== undefined) throw new UsageError('--redis and --spawn-workers go with --backend bullmq');
    return {};
  }
  const redis = (values.redis as string | undefined) ?? process.env.FRAMEJOBS_REDIS_URL;
  if (redis === undefined || redis === '') throw new UsageError('--backend bullmq needs --redis URL (or FRAMEJOBS_REDIS_URL)');
  return { backend: 'bullmq', redis, spawnWorkers: intArg('spawn-workers', values['spawn-workers'] as string | undefined, 0, 64, 0) };
}

function printSummary(s: SweepSummary): void {
  const lines = [
    `sweep: grid ${s.grid} (${s.points} points x ${s.tasks / s.points} runs = ${s.tasks} tasks), seed ${s.seed}, ${s.backend} backend, ${s.workers} worker(s)`,
    `  ${s.completed} done, ${s.failed} failed, ${s.resumed} resumed from the checkpoint; ${s.computed} computed at ${s.tasks_per_s} tasks/s; ${s.wall_s} s`,
    `  results: ${s.out} (sha256 ${s.result_sha256})`,
  ];
  if (s.best.length > 0) {
    lines.push('  best points (score = goals - threats/4 - path jobs/20, means over runs):');
    for (const b of s.best) {
      lines.push(
        `    #${b.point}: replan ${b.replanFrames} frames, speed ${b.speed}, goal radius ${b.goalRadius}, horizon ${b.predictSteps} steps -> ` +
          `score ${b.score} (goals ${b.goals}, threats ${b.threats}, path jobs ${b.path_jobs}, ${b.cells_per_goal} cells per goal)`,
      );
    }
  }
  for (const l of lines) console.log(l);
}

export async function main(argv: readonly string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseSweepArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`sweep: ${err.message}`);
    console.error(USAGE);
    return 2;
  }
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const plan = new SweepPlan(GRIDS[o.grid], o.seed);
  const kindsUrl = builtModuleUrl(import.meta.url, './kinds.js');
  let remote: BullmqSweepBackend | null = null;
  const backend = async (): Promise<SweepBackend> => {
    // With workers, this thread never runs a task: it need not build the levels.
    if (o.backend !== 'bullmq') return createEngineBackend({ workers: o.workers, kindModules: [kindsUrl], config: { [CONFIG_LEVELS_ON_MAIN]: o.workers === 0 } });
    remote = await createBullmqSweepBackend({
      redis: o.redis!,
      // The same grid, seed and code give the same run id: a --resume finds what the killed run's workers left.
      runId: `sweep-${plan.hash.slice(0, 16)}`,
      spawnWorkers: o.spawnWorkers,
      kindModules: [kindsUrl],
      // Each spawned process runs --workers threads (at least one); its own thread builds no levels.
      workerArgs: ['--threads', String(Math.max(1, o.workers)), '--config', JSON.stringify({ [CONFIG_LEVELS_ON_MAIN]: false })],
      log: (line) => console.error(`sweep: ${line}`),
    });
    return remote;
  };
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let summary: SweepSummary;
  try {
    summary = await runSweep({
      plan,
      backend,
      out: o.out,
      resume: o.resume,
      commitMs: o.commitMs,
      progress: process.stderr,
      signal: ac.signal,
      log: (s) => console.error(`sweep: ${s}`),
    });
  } catch (err) {
    if (err instanceof SweepError) {
      console.error(`sweep: ${err.message} [${err.code}]`);
      return 3;
    }
    if (err instanceof BackendError) {
      // Redis unreachable, a refused password, a queue error: what was committed stays, --resume continues.
      console.error(`sweep: ${err.message} [${err.code}]`);
      return 1;
    }
    throw err;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const remoteStats = (remote as BullmqSweepBackend | null)?.stats();
  if (remoteStats !== undefined) summary = { ...summary, backend: 'bullmq', ...remoteStats };
  if (!o.json) printSummary(summary);
  else {
    console.error(`sweep: ${summary.completed} done, ${summary.failed} failed, ${summary.resumed} resumed; ${summary.out}`);
    console.log(JSON.stringify(summary));
  }
  if (summary.interrupted) {
    console.error(`sweep: interrupted with ${summary.completed + summary.failed} of ${summary.tasks} tasks committed; --resume continues`);
    return 130;
  }
  return summary.failed > 0 ? 1 : 0;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  // Exits explicitly: the engine's shutdown leaves its timeout timer pending, which would
  // hold the process for up to that long. Writes to stdout and stderr (files, pipes, terminals) are synchronous on Linux, so nothing is cut off.
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      // A file system error (no such directory, a directory given as --out) needs its message, not a stack.
      const fsError = err instanceof Error && typeof (err as { syscall?: unknown }).syscall === 'string';
      console.error('sweep:', err instanceof Error ? (fsError ? err.message : (err.stack ?? err.message)) : String(err));
      process.exit(1);
    },
  );
}

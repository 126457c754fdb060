/**
 * `npm run fuzz -- --runs N [--seed S] [--max-commands M]` (`--help` lists them)
 *
 * Runs the model-based property of test/fuzz-model.ts for N sequences (default 1000)
 * against a real engine with two workers. Prints the seed first, a shrunk failing
 * sequence if there is one, and ends with one JSON line: runs, commands executed, jobs,
 * faults injected, outcomes, failures. Exit code 1 on a failure.
 */
import * as fc from 'fast-check';
import { SEED, cliOptions, integerIn, numberOption, parseCli, runCli, runIfMain } from '../game/cli-args.js';
import { FuzzEnv, fuzzProperty } from '../test/fuzz-model.js';

export interface FuzzArgs {
  runs: number;
  seed: number;
  maxCommands: number;
  help?: boolean;
}

export const USAGE = `Usage: npm run fuzz -- [options]

  --runs N           sequences to run (default 1000)
  --seed N           fast-check seed (default: a fresh one, printed first)
  --max-commands N   most commands in one sequence (default 16)
  --help             this text`;

const OPTIONS = cliOptions(['runs', 'seed', 'max-commands']);

export function parseFuzzArgs(argv: readonly string[]): FuzzArgs {
  const v = parseCli(argv, OPTIONS);
  const o: FuzzArgs = {
    runs: numberOption(v, 'runs', integerIn(1), 1000),
    seed: numberOption(v, 'seed', SEED, (Date.now() ^ (process.pid << 8)) >>> 0),
    maxCommands: numberOption(v, 'max-commands', integerIn(1), 16),
  };
  if (v.help === true) o.help = true;
  return o;
}

export function main(argv: readonly string[]): Promise<number> {
  return runCli('fuzz', USAGE, argv, parseFuzzArgs, fuzz);
}

async function fuzz(args: FuzzArgs): Promise<number> {
  console.log(`fuzz: ${args.runs} sequences of up to ${args.maxCommands} commands, seed ${args.seed}`);
  const env = new FuzzEnv();
  const t0 = performance.now();
  // Progress on stderr every ten seconds, so stdout ends with the JSON line.
  const progress = setInterval(() => {
    const t = env.totals;
    console.error(`fuzz: ${t.runs} sequences, ${t.commands} commands, ${t.jobs} jobs so far`);
    const stalled = env.stallReport();
    if (stalled !== null) console.error(stalled);
  }, 10_000);
  progress.unref();
  const details = await fc.check(fuzzProperty(env, args.maxCommands), { numRuns: args.runs, seed: args.seed });
  clearInterval(progress);
  await env.close();
  const t = env.totals;
  const failed = details.failed;
  if (failed) {
    console.log(fc.defaultReportMessage(details) ?? 'property failed');
    const cause = (details as { errorInstance?: unknown }).errorInstance;
    console.log(`failure: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  const summary = {
    runs: details.numRuns,
    sequences_run: t.runs,
    seed: args.seed,
    commands: t.commands,
    submits: t.submits,
    jobs: t.jobs,
    rejected: t.rejected,
    malformed: t.malformed,
    bundles: { accepted: t.bundles, jobs_delivered: t.bundleJobs },
    faults: { ...t.faults, total: t.faults.kills + t.faults.hangs + t.faults.crashes + t.faults.throws + t.faults.shutdowns },
    caller_misbehaviour: t.hostile,
    outcomes: t.outcomes,
    inline_runs: t.inlineRuns,
    worker_events: t.workerEvents,
    engines: t.engines,
    failures: failed ? 1 : 0,
    counterexample: failed ? String(details.counterexample?.[0] ?? '') : null,
    wall_s: +((performance.now() - t0) / 1000).toFixed(1),
  };
  console.log(`fuzz: ${summary.runs} sequences, ${summary.commands} commands, ${summary.jobs} jobs, ${summary.faults.total} faults, ${summary.failures} failures in ${summary.wall_s} s`);
  console.log(JSON.stringify(summary));
  return failed ? 1 : 0;
}

runIfMain(import.meta.url, 'fuzz', main);

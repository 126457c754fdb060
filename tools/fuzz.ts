/**
 * `npm run fuzz -- --runs N [--seed S] [--max-commands M]`
 *
 * Runs the model-based property of test/fuzz-model.ts for N sequences (default 1000)
 * against a real engine with two workers. Prints the seed first, a shrunk failing
 * sequence if there is one, and ends with one JSON line: runs, commands executed, jobs,
 * faults injected, outcomes, failures. Exit code 1 on a failure.
 */
import * as fc from 'fast-check';
import { EngineError } from '../engine/errors.js';
import { FuzzEnv, fuzzProperty } from '../test/fuzz-model.js';

export interface FuzzArgs {
  runs: number;
  seed: number;
  maxCommands: number;
}

export function parseFuzzArgs(argv: readonly string[]): FuzzArgs {
  const out: FuzzArgs = { runs: 1000, seed: (Date.now() ^ (process.pid << 8)) >>> 0, maxCommands: 16 };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new EngineError('INVALID_OPTION', `--${name} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') out.runs = int('runs', argv[++i], 1);
    else if (a === '--seed') out.seed = int('seed', argv[++i], -0x80000000);
    else if (a === '--max-commands') out.maxCommands = int('max-commands', argv[++i], 1);
    else throw new EngineError('INVALID_OPTION', `unknown option ${a}; usage: npm run fuzz -- --runs N [--seed S] [--max-commands M]`);
  }
  return out;
}

async function main(): Promise<void> {
  let args: FuzzArgs;
  try {
    args = parseFuzzArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  console.log(`fuzz: ${args.runs} sequences of up to ${args.maxCommands} commands, seed ${args.seed}`);
  const env = new FuzzEnv();
  const t0 = performance.now();
  // Progress on stderr every ten seconds, so stdout ends with the JSON line.
  const progress = setInterval(() => {
    const t = env.totals;
    console.error(`fuzz: ${t.runs} sequences, ${t.commands} commands, ${t.jobs} jobs so far`);
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
    faults: { ...t.faults, total: t.faults.kills + t.faults.hangs + t.faults.crashes + t.faults.throws + t.faults.shutdowns },
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
  if (failed) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main();
}

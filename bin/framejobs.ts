#!/usr/bin/env node
/**
 * The package's command: `framejobs stress [options]`, `framejobs worker [options]`.
 *
 *   framejobs stress                                  the graded stress report (burst, 5 s)
 *   framejobs stress --mode frame                     the game's 30 Hz frame mode (needs @dimforge/rapier3d-compat)
 *   framejobs stress --kinds K.js --workload W.js     grades your own kinds in burst and frame modes
 *   framejobs worker --redis URL --kinds K.js         a remote worker for batches on BullMQ (needs bullmq, ioredis)
 *
 * Exit code: 0 for grades A-D, 1 for F, 2 for bad options or a run that could not start.
 */
import { runUserStress, USER_USAGE } from './user-stress.js';

const USAGE = `Usage: framejobs stress [options]

The graded stress report of the engine (the built-in COMPUTE_HEAVY burst by default):
  framejobs stress [--mode burst|frame|chaos] [--seconds N] [--workers N] [--seed N] [--json] [--html FILE]
  (frame and chaos run the demo game's kinds, which need @dimforge/rapier3d-compat installed)

${USER_USAGE}

A remote worker for batches on a BullMQ queue (needs bullmq and ioredis installed):
  framejobs worker --redis URL --kinds MODULE [--concurrency N] [--threads N]   (--help for all options)`;

async function hasRapier(): Promise<boolean> {
  try {
    await import('@dimforge/rapier3d-compat');
    return true;
  } catch {
    return false;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  if (command === 'worker') return worker(rest);
  if (command !== 'stress') {
    process.stderr.write(`framejobs: unknown command ${JSON.stringify(command)}\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.some((a) => a === '--kinds' || a.startsWith('--kinds=') || a === '--workload' || a.startsWith('--workload='))) {
    return runUserStress(rest);
  }
  const mode = modeOf(rest);
  if ((mode === 'frame' || mode === 'chaos') && !(await hasRapier())) {
    process.stderr.write(
      `framejobs stress: --mode ${mode} runs the demo game's physics kinds, which need @dimforge/rapier3d-compat: npm install @dimforge/rapier3d-compat\n`,
    );
    return 2;
  }
  const { main: stressMain } = await import('../stress/cli/main.js');
  return stressMain(rest);
}

async function worker(argv: readonly string[]): Promise<number> {
  let mod: typeof import('../remote/worker-cli.js');
  try {
    mod = await import('../remote/worker-cli.js');
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && /bullmq|ioredis/.test(String((e as Error).message))) {
      process.stderr.write('framejobs worker needs bullmq and ioredis: npm install bullmq ioredis\n');
      return 2;
    }
    throw e;
  }
  const code = await mod.workerMain(argv);
  // A stopped worker has nothing left to do; a driver's lingering timer must not hold the process.
  setTimeout(() => process.exit(code), 100).unref();
  return code;
}

function modeOf(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--mode') return argv[i + 1] ?? '';
    if (a.startsWith('--mode=')) return a.slice('--mode='.length);
  }
  return 'burst';
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`framejobs: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  },
);

/**
 * `npm run game -- --frames 3000 --agents 500 --workers 4 [--policy deterministic|bestEffort]
 *                  [--seed N] [--fast] [--no-pacing] [--kill-at F,F,...] [--json] [--trace FILE]` (`--help` lists every option)
 *
 * A headless run of the game at 30 Hz (or back to back with --fast) that prints a
 * frame-sync summary; with --json the last stdout line is the report as one JSON object.
 */
import { writeFileSync } from 'node:fs';
import type { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { SEED, choiceOption, cliOptions, integerIn, optionalNumber, parseCli, runCli, runIfMain, toNumber } from './cli-args.js';
import { runGame, type GameReport, type RunOptions } from './run.js';

export const USAGE = `Usage: npm run game -- [options]

  --frames N                 frames to run (default 3000)
  --agents N                 agents in the level (default 500)
  --workers N                worker threads, 0 to run inline (default 4)
  --policy deterministic|bestEffort
                             deterministic: results applied exactly K frames after submit (default);
                             bestEffort: applied when they arrive, dropped when too old
  --k N                      deterministic: apply after 1 or 2 frames (default 2)
  --seed N                   seed of the level and the agents (default 1)
  --predictions N            physics.predict jobs per second (default 200)
  --fast                     step frames back to back instead of at 30 Hz
  --no-pacing                leave the engine's workers asleep between frames (framePacing: false)
  --kill-at F,F,...          kill a worker at each of these frames
  --warm-up N                frames of a throwaway world first, on an engine of its own, as a
                             loading screen warms a game's code (default 90; 0 starts cold)
  --json                     print the report as one JSON object on the last line
  --trace FILE               record the job timeline and write it as Chrome trace JSON (open in ui.perfetto.dev)
  --help                     this text`;

const OPTIONS = cliOptions(['frames', 'agents', 'workers', 'seed', 'predictions', 'k', 'policy', 'kill-at', 'trace', 'warm-up'], ['fast', 'json', 'no-pacing']);

export type GameArgs = RunOptions & { json: boolean; help?: boolean; trace?: string };

export function parseGameArgs(argv: readonly string[]): GameArgs {
  const v = parseCli(argv, OPTIONS);
  const out: GameArgs = { json: v.json === true };
  const int = (name: string, min: number): number | undefined => optionalNumber(v, name, integerIn(min));
  const set = <K extends keyof GameArgs>(key: K, value: GameArgs[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set('frames', int('frames', 1));
  set('agents', int('agents', 1));
  set('workers', int('workers', 0));
  set('seed', optionalNumber(v, 'seed', SEED));
  set('predictionsPerSecond', int('predictions', 0));
  set('applyAfterFrames', int('k', 1));
  set('warmUpFrames', int('warm-up', 0));
  if (v.policy !== undefined) out.policy = choiceOption(v, 'policy', ['deterministic', 'bestEffort'] as const, 'deterministic');
  if (v['kill-at'] !== undefined) out.killAtFrames = String(v['kill-at']).split(',').map((f) => toNumber('kill-at', f, integerIn(0)));
  if (v.fast === true) out.fast = true;
  if (v['no-pacing'] === true) out.framePacing = false;
  if (v.trace !== undefined) {
    if (v.trace === '') throw new EngineError('INVALID_OPTION', '--trace needs a file name');
    out.trace = String(v.trace);
  }
  if (v.help === true) out.help = true;
  return out;
}

export function formatReport(r: GameReport): string {
  const pct = (x: number): string => (100 * x).toFixed(3) + ' %';
  const a = r.applied_after_frames;
  const v = r.arrived_after_frames;
  const kinds = Object.entries(r.jobs.by_kind)
    .map(([k, s]) => `    ${k.padEnd(18)} submitted ${String(s.submitted).padStart(7)}  applied ${String(s.applied).padStart(7)}  superseded ${s.superseded}`)
    .join('\n');
  return [
    `game: ${r.frames} frames, ${r.agents} agents, ${r.workers} workers, policy ${r.policy}, seed ${r.seed}${r.fast ? ', fast' : ', 30 Hz'}`,
    `  loading: ${r.warm_up.frames} frames of a throwaway world on an engine of its own (code warm-up; engine time up to ${r.warm_up.engine_ms_max.toFixed(3)} ms a frame), not counted below`,
    `  jobs: ${r.jobs.submitted} submitted, ${r.jobs.applied} applied, ${r.jobs.rejected} rejected, ${r.jobs.superseded} superseded`,
    kinds,
    `  per frame: ${r.jobs_per_frame.mean.toFixed(1)} jobs submitted (max ${r.jobs_per_frame.max}), ${r.results_per_frame.mean.toFixed(1)} results returned (max ${r.results_per_frame.max})`,
    `  applied after 0/1/2/later frames: ${a['0']} / ${a['1']} / ${a['2']} / ${a.later}  (within 2 frames, drops counted as misses: ${pct(r.applied_within_2_frames)})`,
    `  results arrived after 0/1/2/later frames: ${v['0']} / ${v['1']} / ${v['2']} / ${v.later}`,
    `  inline fallbacks ${r.inline_fallbacks}, lost-job fallbacks ${r.lost_fallbacks}, stale dropped ${r.dropped_stale}, failed dropped ${r.dropped_failed}, missed deadlines ${r.missed_deadlines}`,
    `  engine main-thread ms/frame: p50 ${r.engine_ms_per_frame.p50.toFixed(3)}, p99 ${r.engine_ms_per_frame.p99.toFixed(3)}, max ${r.engine_ms_per_frame.max.toFixed(3)}; ${r.frames_engine_over_1ms} frames over 1 ms`,
    `  of which engine.submit: p50 ${r.submit_ms_per_frame.p50.toFixed(3)}, p99 ${r.submit_ms_per_frame.p99.toFixed(3)}, max ${r.submit_ms_per_frame.max.toFixed(3)}`,
    `  without fallback runs: p50 ${r.engine_ms_per_frame_without_fallbacks.p50.toFixed(3)}, p99 ${r.engine_ms_per_frame_without_fallbacks.p99.toFixed(3)}; fallback runs took ${r.fallback_ms_total.toFixed(1)} ms in all`,
    `  main-thread garbage collections: ${r.main_gc.count} (${r.main_gc.ms} ms); a collection fell inside ${r.main_gc.frames_over_1ms_with_gc} of the frames over 1 ms`,
    r.main_wait === null
      ? '  main thread waiting for a CPU: not measured here (no /proc/thread-self/schedstat)'
      : `  main thread waiting for a CPU: ${r.main_wait.ms} ms in all, over 1 ms in ${r.main_wait.frames_waiting_over_1ms} frames; of the frames over 1 ms, ${r.main_wait.frames_over_1ms_waiting} would be under it without the wait, ${r.main_wait.frames_over_1ms_waking} without a slow wake-up of a worker (${r.main_wait.wake_ms} ms of wake-ups in all), ${r.main_wait.frames_over_1ms_other} have none of these to explain them`,
    `  loop: ${r.loop.ticks} ticks, ${r.loop.capped_ticks} hit the catch-up cap, ${r.loop.dropped_ms} ms dropped; workers killed ${r.workers_killed}, respawns ${r.engine.respawns}`,
    `  state hash ${r.state_hash} (last frame ${r.final_frame_hash}), wall ${r.wall_ms} ms`,
  ].join('\n');
}

export function main(argv: readonly string[]): Promise<number> {
  return runCli('game', USAGE, argv, parseGameArgs, async (args) => {
    const traceFile = args.trace;
    const report = await runGame({
      ...args,
      ...(traceFile === undefined
        ? {}
        : {
            traceTo: (engine: EngineCore): void => {
              writeFileSync(traceFile, engine.exportTrace());
              process.stderr.write(`game: wrote the job timeline to ${traceFile} (open it in ui.perfetto.dev or chrome://tracing)\n`);
            },
          }),
    });
    console.log(formatReport(report));
    if (args.json) console.log(JSON.stringify(report));
    return 0;
  });
}

runIfMain(import.meta.url, 'game', main);

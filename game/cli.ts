/**
 * `npm run game -- --frames 3000 --agents 500 --workers 4 [--policy deterministic|bestEffort]
 *                  [--seed N] [--fast] [--kill-at F,F,...] [--json]`
 *
 * A headless run of the game at 30 Hz (or back to back with --fast) that prints a
 * frame-sync summary; with --json the last stdout line is the report as one JSON object.
 */
import { EngineError } from '../engine/errors.js';
import { runGame, type GameReport, type RunOptions } from './run.js';

export function parseGameArgs(argv: readonly string[]): RunOptions & { json: boolean } {
  const out: RunOptions & { json: boolean } = { json: false };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new EngineError('INVALID_OPTION', `--${name} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--frames': out.frames = int('frames', argv[++i], 1); break;
      case '--agents': out.agents = int('agents', argv[++i], 1); break;
      case '--workers': out.workers = int('workers', argv[++i], 0); break;
      case '--seed': out.seed = int('seed', argv[++i], -0x80000000); break;
      case '--predictions': out.predictionsPerSecond = int('predictions', argv[++i], 0); break;
      case '--k': out.applyAfterFrames = int('k', argv[++i], 1); break;
      case '--policy': {
        const p = argv[++i];
        if (p !== 'deterministic' && p !== 'bestEffort') throw new EngineError('INVALID_OPTION', `--policy must be deterministic or bestEffort, got ${p ?? 'nothing'}`);
        out.policy = p;
        break;
      }
      case '--kill-at': {
        const v = argv[++i] ?? '';
        out.killAtFrames = v.split(',').map((s) => int('kill-at', s, 0));
        break;
      }
      case '--fast': out.fast = true; break;
      case '--json': out.json = true; break;
      default: throw new EngineError('INVALID_OPTION', `unknown option ${a}; see game/cli.ts for the list`);
    }
  }
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
    `  jobs: ${r.jobs.submitted} submitted, ${r.jobs.applied} applied, ${r.jobs.rejected} rejected, ${r.jobs.superseded} superseded`,
    kinds,
    `  per frame: ${r.jobs_per_frame.mean.toFixed(1)} jobs submitted (max ${r.jobs_per_frame.max}), ${r.results_per_frame.mean.toFixed(1)} results returned (max ${r.results_per_frame.max})`,
    `  applied after 0/1/2/later frames: ${a['0']} / ${a['1']} / ${a['2']} / ${a.later}  (within 2 frames, drops counted as misses: ${pct(r.applied_within_2_frames)})`,
    `  results arrived after 0/1/2/later frames: ${v['0']} / ${v['1']} / ${v['2']} / ${v.later}`,
    `  inline fallbacks ${r.inline_fallbacks}, lost-job fallbacks ${r.lost_fallbacks}, stale dropped ${r.dropped_stale}, failed dropped ${r.dropped_failed}, missed deadlines ${r.missed_deadlines}`,
    `  engine main-thread ms/frame: p50 ${r.engine_ms_per_frame.p50.toFixed(3)}, p99 ${r.engine_ms_per_frame.p99.toFixed(3)}, max ${r.engine_ms_per_frame.max.toFixed(3)}; ${r.frames_engine_over_1ms} frames over 1 ms`,
    `  of which engine.submit: p50 ${r.submit_ms_per_frame.p50.toFixed(3)}, p99 ${r.submit_ms_per_frame.p99.toFixed(3)}, max ${r.submit_ms_per_frame.max.toFixed(3)}`,
    `  without fallback runs: p50 ${r.engine_ms_per_frame_without_fallbacks.p50.toFixed(3)}, p99 ${r.engine_ms_per_frame_without_fallbacks.p99.toFixed(3)}; fallback runs took ${r.fallback_ms_total.toFixed(1)} ms in all`,
    `  loop: ${r.loop.ticks} ticks, ${r.loop.capped_ticks} hit the catch-up cap, ${r.loop.dropped_ms} ms dropped; workers killed ${r.workers_killed}, respawns ${r.engine.respawns}`,
    `  state hash ${r.state_hash} (last frame ${r.final_frame_hash}), wall ${r.wall_ms} ms`,
  ].join('\n');
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseGameArgs>;
  try {
    args = parseGameArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  const report = await runGame(args);
  console.log(formatReport(report));
  if (args.json) console.log(JSON.stringify(report));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main();
}

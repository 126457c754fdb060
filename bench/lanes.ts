/**
 * `npm run bench:lanes [-- --seconds N] [--workers N] [--agents N] [--no-sweep] [--json]`:
 * the 30 Hz game in real time while a tuning sweep keeps every worker it may use busy,
 * on the same engine. The sweep's tasks (whole game simulations, sweep.evaluate) go to
 * the background lane; the game's own jobs to the frame lane. Reports what the game sees
 * (results applied within 2 frames, missed deadlines, the engine's main-thread time per
 * frame) and how much sweep work got done beside it. With --no-sweep the same game runs
 * alone, for comparison; the JSON has both when run twice by the caller.
 */
import { parseArgs } from 'node:util';
import type { EngineCore } from '../engine/core.js';
import { builtModuleUrl } from '../engine/paths.js';
import { runGame } from '../game/run.js';
import { SweepPlan, GRIDS } from '../tools/sweep/grid.js';

const { values: v } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    agents: { type: 'string', default: '500' },
    'no-sweep': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(v.seconds);
const workers = Number(v.workers);
const agents = Number(v.agents);
if (!(seconds > 0) || !Number.isInteger(workers) || workers < 1 || !Number.isInteger(agents) || agents < 1) {
  console.error('usage: npm run bench:lanes -- [--seconds N] [--workers N (>= 1)] [--agents N] [--no-sweep] [--json]');
  process.exit(2);
}
const sweep = !v['no-sweep'];
const plan = new SweepPlan(GRIDS.quick, 1);
const counts = { submitted: 0, done: 0, failed: 0 };

/** Keeps `inFlight` sweep tasks going in the background lane until stopped. */
function sweepBeside(engine: EngineCore, inFlight: number): () => void {
  const kind = engine.kindId('sweep.evaluate');
  let stopped = false;
  let next = 0;
  const launch = (): void => {
    if (stopped) return;
    const params = plan.params(next++ % plan.tasks);
    counts.submitted++;
    engine.run(kind, params, { lane: 'background' }).then(
      () => {
        counts.done++;
        launch();
      },
      () => {
        counts.failed++;
        launch();
      },
    );
  };
  for (let i = 0; i < inFlight; i++) launch();
  return () => {
    stopped = true;
  };
}

const report = await runGame({
  frames: Math.round(seconds * 30),
  workers,
  agents,
  policy: 'bestEffort',
  seed: 7,
  ...(sweep
    ? {
        extraKindModules: [builtModuleUrl(import.meta.url, '../tools/sweep/kinds.js').href],
        onEngine: (engine: EngineCore) => sweepBeside(engine, 2 * workers),
      }
    : {}),
});
const out = {
  bench: 'lanes',
  sweep_beside: sweep,
  workers,
  agents,
  seconds,
  frames: report.frames,
  applied_within_2_frames: report.applied_within_2_frames,
  missed_deadlines: report.missed_deadlines,
  dropped_stale: report.dropped_stale,
  engine_ms_per_frame: report.engine_ms_per_frame,
  frames_engine_over_1ms: report.frames_engine_over_1ms,
  sweep_tasks: { done: counts.done, failed: counts.failed, per_s: Number((counts.done / seconds).toFixed(2)) },
};
if (!v.json) {
  console.log(
    `game ${report.frames} frames, ${agents} agents, ${workers} workers${sweep ? ', sweep in the background lane' : ''}: ` +
      `applied within 2 frames ${(report.applied_within_2_frames * 100).toFixed(2)} %, missed deadlines ${report.missed_deadlines}, ` +
      `engine main-thread ms per frame p50 ${report.engine_ms_per_frame.p50.toFixed(3)} p99 ${report.engine_ms_per_frame.p99.toFixed(3)}; ` +
      `sweep tasks done ${counts.done} (${out.sweep_tasks.per_s}/s)`,
  );
}
console.log(JSON.stringify(out));

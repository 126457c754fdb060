/**
 * `sweep.evaluate`: one headless run of the deterministic game with a set of AI
 * parameters, scored by what a designer looks at. One job is one whole run (a few
 * hundred frames), so a worker runs the game the way the main thread would: its own
 * engine with `workers: 0` (every game job inline inside poll), the game's own
 * KindRunner for fallbacks, and a fresh GameWorld per job.
 *
 * The levels are fixed (SWEEP_LEVELS) and built once per thread in init, because a
 * kind's run is synchronous and starting an engine is not. A job names a level by
 * index. The game in deterministic mode is a function of its frame sequence only, and
 * each job drains its engine before returning, so a job's result depends only on its
 * params: never on the thread, nor on the jobs that thread ran before.
 */
import { EngineCore } from '../../engine/core.js';
import { EngineError } from '../../engine/errors.js';
import { defineKind, type WorkerEnv } from '../../engine/kind.js';
import { builtModuleUrl } from '../../engine/paths.js';
import { generateLevel, type NavGrid } from '../../game/grid.js';
import { KindRunner } from '../../frame/kind-runner.js';
import { kinds as gameKinds } from '../../game/kinds.js';
import { initRapier } from '../../game/physics.js';
import { GameWorld } from '../../game/world.js';

/** The levels a sweep plays on. Changing one changes every result (it is part of the code version). */
export const SWEEP_LEVELS: readonly { readonly seed: number; readonly size: number }[] = [
  { seed: 101, size: 96 },
  { seed: 202, size: 96 },
  { seed: 303, size: 96 },
];

/** An impact predicted within this many cells of an agent is a threat to it. */
export const THREAT_RADIUS = 2;

/** sweep.evaluate params, in order. */
export const P_LEVEL = 0;
export const P_SEED = 1;
export const P_FRAMES = 2;
export const P_AGENTS = 3;
export const P_REPLAN = 4;
export const P_SPEED = 5;
export const P_GOAL_RADIUS = 6;
export const P_PREDICT_STEPS = 7;
export const P_PREDICTIONS = 8;

/** sweep.evaluate results, in order. */
export const EVAL_RESULTS = [
  /** Goals agents reached. */
  'goals',
  /** Cells walked by all agents together. */
  'walked',
  /** Path jobs the run submitted (re-plans included): the AI's cost. */
  'path_jobs',
  /** Paths the game asked for that A* could not find (or gave up on). */
  'no_path',
  /** Impact predictions applied. */
  'predictions',
  /** Of those, predicted hits on the level. */
  'predicted_hits',
  /** Predicted hits within THREAT_RADIUS cells of an agent, counted per agent. */
  'threats',
  /** The game's state hash over every frame (uint32): the run's fingerprint. */
  'state_hash',
] as const;

interface Level {
  grid: NavGrid;
  engine: EngineCore;
  runner: KindRunner;
}

interface SweepState {
  levels: Level[];
}

const noop = (): void => {};

/**
 * EngineOptions.config key: false tells the engine's own thread not to build the levels.
 * The engine initialises every kind on its thread too, for jobs it runs inline; a
 * backend with workers never does, and the levels cost start-up time.
 */
export const CONFIG_LEVELS_ON_MAIN = 'sweepLevelsOnMain';

async function buildLevels(env: WorkerEnv): Promise<SweepState> {
  const levels: Level[] = [];
  if (env.workerIndex < 0 && env.config[CONFIG_LEVELS_ON_MAIN] === false) return { levels };
  await initRapier();
  for (const l of SWEEP_LEVELS) {
    const grid = generateLevel({ seed: l.seed, width: l.size, height: l.size });
    const shared = { nav: grid.sab };
    const engine = await EngineCore.start({
      workers: 0,
      kindModules: [builtModuleUrl(import.meta.url, '../../game/kinds.js')],
      shared,
      jobCapacity: 1024,
      arenaBytes: 2 << 20,
    });
    const runner = await KindRunner.create(gameKinds, { workerIndex: env.workerIndex, shared, config: {} }, 1 << 20);
    levels.push({ grid, engine, runner });
  }
  return { levels };
}

/** Scratch for the per-frame observer, grown to the largest agent count seen. */
let prevLast = new Int32Array(0);
let prevGoal = new Int32Array(0);
let prevPos = new Float64Array(0);
let prevPred = new Float64Array(0);

/**
 * Plays one run and writes EVAL_RESULTS into `out`. Exported so that tests and the
 * workers-0 path run the very same code.
 */
export function evaluate(state: SweepState, p: Float64Array, out: Float64Array): void {
  const level = state.levels[p[P_LEVEL]];
  if (level === undefined) throw new EngineError('INVALID_OPTION', `sweep.evaluate: no level ${p[P_LEVEL]} on this thread`);
  const frames = p[P_FRAMES];
  const agents = p[P_AGENTS];
  const world = new GameWorld(level.grid, level.engine, level.runner, {
    agents,
    seed: p[P_SEED] | 0,
    policy: 'deterministic',
    replanFrames: p[P_REPLAN],
    speed: p[P_SPEED],
    goalRadius: p[P_GOAL_RADIUS],
    predictSteps: p[P_PREDICT_STEPS],
    predictionsPerSecond: p[P_PREDICTIONS],
    crates: 8,
    projectiles: 8,
  });
  try {
    if (prevLast.length < agents) {
      prevLast = new Int32Array(agents);
      prevGoal = new Int32Array(agents);
      prevPos = new Float64Array(2 * agents);
    }
    if (prevPred.length < world.predicted.length) prevPred = new Float64Array(world.predicted.length);
    const S = GameWorld.A_STRIDE;
    const ai = world.agentI32;
    const pos = world.pos;
    const pred = world.predicted;
    const nPred = pred.length;
    let goals = 0, walked = 0, predictions = 0, hits = 0, threats = 0;
    for (let a = 0; a < agents; a++) {
      prevPos[2 * a] = pos[2 * a];
      prevPos[2 * a + 1] = pos[2 * a + 1];
    }
    prevPred.fill(0, 0, nPred);
    for (let f = 0; f < frames; f++) {
      for (let a = 0; a < agents; a++) {
        prevLast[a] = ai[a * S + GameWorld.A_LAST];
        prevGoal[a] = ai[a * S + GameWorld.A_GOAL];
      }
      world.step(f);
      for (let a = 0; a < agents; a++) {
        const last = ai[a * S + GameWorld.A_LAST];
        // The agent stepped onto the cell it was heading for (its goal may already be the next one).
        if (last !== prevLast[a] && prevGoal[a] >= 0 && last === prevGoal[a]) goals++;
        const dx = pos[2 * a] - prevPos[2 * a];
        const dy = pos[2 * a + 1] - prevPos[2 * a + 1];
        walked += Math.sqrt(dx * dx + dy * dy);
        prevPos[2 * a] = pos[2 * a];
        prevPos[2 * a + 1] = pos[2 * a + 1];
      }
      // A body's prediction record changes when a new prediction is applied.
      for (let o = 0; o < nPred; o += 4) {
        if (pred[o] === prevPred[o] && pred[o + 1] === prevPred[o + 1] && pred[o + 2] === prevPred[o + 2] && pred[o + 3] === prevPred[o + 3]) continue;
        predictions++;
        if (pred[o] > 0) {
          hits++;
          const hx = pred[o + 2], hz = pred[o + 3];
          for (let a = 0; a < agents; a++) {
            const dx = pos[2 * a] - hx, dz = pos[2 * a + 1] - hz;
            if (dx * dx + dz * dz <= THREAT_RADIUS * THREAT_RADIUS) threats++;
          }
        }
        for (let k = 0; k < 4; k++) prevPred[o + k] = pred[o + k];
      }
    }
    const m = world.finish();
    const paths = m.jobs.by_kind.path;
    out[0] = goals;
    out[1] = walked;
    out[2] = paths ? paths.submitted : 0;
    out[3] = countNoPath(world);
    out[4] = predictions;
    out[5] = hits;
    out[6] = threats;
    out[7] = world.chain >>> 0;
  } finally {
    // Jobs still in flight at the last frame would otherwise reach the next run's poll.
    while (level.engine.inFlight > 0) level.engine.poll(noop);
    world.physics.free();
  }
}

/** Agents left without a goal and without a path at the end: their last request found none. */
function countNoPath(world: GameWorld): number {
  const S = GameWorld.A_STRIDE;
  let n = 0;
  for (let a = 0; a < world.agentCount; a++) {
    if (world.agentI32[a * S + GameWorld.A_GOAL] < 0 && world.agentI32[a * S + GameWorld.A_LEN] === 0) n++;
  }
  return n;
}

export const evaluateKind = defineKind<SweepState>({
  name: 'sweep.evaluate',
  params: [
    { name: 'level', type: 'i32', min: 0, max: SWEEP_LEVELS.length - 1 },
    { name: 'seed', type: 'i32' },
    { name: 'frames', type: 'i32', min: 1, max: 100_000 },
    { name: 'agents', type: 'i32', min: 1, max: 10_000 },
    { name: 'replanFrames', type: 'i32', min: 1, max: 100_000 },
    { name: 'speed', type: 'f64', min: 0.001, max: 1 },
    { name: 'goalRadius', type: 'f64', min: 1, max: 4096 },
    { name: 'predictSteps', type: 'i32', min: 1, max: 600 },
    { name: 'predictionsPerSecond', type: 'f64', min: 0, max: 100_000 },
  ],
  results: EVAL_RESULTS,
  init: buildLevels,
  run(p, out, ctx) {
    evaluate(ctx.state, p, out);
  },
  cleanup(state) {
    for (const l of state.levels) {
      l.runner.cleanup();
      void l.engine.shutdown({ timeoutMs: 100 });
    }
  },
});

export const kinds = [evaluateKind];

/**
 * The Rapier kinds: `physics.predict` (where will this ball first touch the static
 * world) and `physics.raycasts` (a batch of line-of-sight segments). Each thread builds
 * one StaticScene at init, shared by both kinds, and queries it per job.
 *
 * Where the static world comes from is the kinds' scene source. The ready-made
 * `predictKind` and `raycastsKind` read a plain-data StaticWorld the caller passes as
 * `EngineOptions.shared.staticWorld` (a packStaticWorld buffer) or
 * `EngineOptions.config.staticWorld` (the object); `definePhysicsKinds` makes the same
 * two kinds over any other source (the demo game builds its scene from its nav grid).
 *
 * Arena payload of `physics.raycasts` (offsets are ctx.arenaOffset, in bytes):
 *   in:  f32 [ax, ay, az, bx, by, bz] per ray                      (24 * count bytes)
 *   out: f32 per ray, right after the input: the fraction of a->b   (4 * count bytes)
 *        before the first collider, in [0, 1), or -1 if the segment is clear
 * The caller allocates the 28 * count bytes (engine.arenaAlloc), writes the rays, and
 * submits with { arenaOffset, arenaBytes }.
 */
import { EngineError } from '../../engine/errors.js';
import { defineKind, type JobKind, type ParamSpec, type WorkerEnv } from '../../engine/kind.js';
import { initRapier, StaticScene } from './scene.js';
import { STATIC_WORLD_KEY, unpackStaticWorld, type StaticWorld } from './static-world.js';

/** Most rays in one raycast batch. */
export const MAX_RAYS = 4096;
/** f32 values per ray in the raycast input: ax, ay, az, bx, by, bz. */
export const RAY_IN_FLOATS = 6;
/** Arena bytes per ray: its input and its one output, 4 * (RAY_IN_FLOATS + 1). */
export const RAY_BYTES = 28;

/** Raycast result values: how many rays were blocked, how many clear. */
export const RAYS_BLOCKED = 0;
export const RAYS_CLEAR = 1;

/**
 * Where the Rapier kinds of a thread get their scene: called by each kind's init (once
 * per thread per kind); return the same scene for the same thread so both kinds share it.
 */
export type SceneSource = (env: WorkerEnv) => StaticScene | Promise<StaticScene>;

/** Options of definePhysicsKinds. */
export interface PhysicsKindsOptions {
  /** The thread's scene. */
  readonly scene: SceneSource;
  /** Name of the prediction kind. Default `physics.predict`. */
  readonly predictName?: string;
  /** Name of the raycast kind. Default `physics.raycasts`. */
  readonly raycastsName?: string;
}

/** The predict kind's parameters: start point, velocity (units per second), ball radius, most steps. */
export const PREDICT_PARAMS = [
  { name: 'px', type: 'f64' },
  { name: 'py', type: 'f64' },
  { name: 'pz', type: 'f64' },
  { name: 'vx', type: 'f64', min: -1000, max: 1000 },
  { name: 'vy', type: 'f64', min: -1000, max: 1000 },
  { name: 'vz', type: 'f64', min: -1000, max: 1000 },
  { name: 'radius', type: 'f64', min: 0.01, max: 10 },
  { name: 'steps', type: 'i32', min: 1, max: 600 },
] as const satisfies readonly ParamSpec[];
/** The predict kind's results, in order (PREDICT_HIT ...). */
export const PREDICT_RESULTS = ['hit', 'step', 'time', 'x', 'y', 'z', 'nx', 'ny', 'nz'] as const;
/** The raycast kind's one parameter: how many rays its arena slice holds. */
export const RAYCAST_PARAMS = [{ name: 'count', type: 'i32', min: 1, max: MAX_RAYS }] as const satisfies readonly ParamSpec[];
/** The raycast kind's results, in order (RAYS_BLOCKED, RAYS_CLEAR). */
export const RAYCAST_RESULTS = ['blocked', 'clear'] as const;

/** What definePhysicsKinds makes. */
export interface PhysicsKinds {
  readonly predictKind: JobKind<StaticScene, typeof PREDICT_PARAMS, typeof PREDICT_RESULTS>;
  readonly raycastsKind: JobKind<StaticScene, typeof RAYCAST_PARAMS, typeof RAYCAST_RESULTS>;
}

/**
 * The two Rapier kinds over a scene source (the ready-made `predictKind` and
 * `raycastsKind` are these over sceneFromEnv). Throws INVALID_KIND without a scene source.
 */
export function definePhysicsKinds(options: PhysicsKindsOptions): PhysicsKinds {
  if (options === null || typeof options !== 'object' || typeof options.scene !== 'function') {
    throw new EngineError('INVALID_KIND', 'definePhysicsKinds needs { scene: (env) => StaticScene }');
  }
  const source = options.scene;
  const predictKind = defineKind({
    name: options.predictName ?? 'physics.predict',
    params: PREDICT_PARAMS,
    results: PREDICT_RESULTS,
    init: (env): StaticScene | Promise<StaticScene> => source(env),
    run(p, out, ctx) {
      const scene = ctx.state;
      scene.predict(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], scene.stepSeconds, out);
    },
  });
  const raycastsKind = defineKind({
    name: options.raycastsName ?? 'physics.raycasts',
    params: RAYCAST_PARAMS,
    results: RAYCAST_RESULTS,
    arenaBytes: (p) => RAY_BYTES * p[0],
    maxArenaBytes: RAY_BYTES * MAX_RAYS,
    init: (env): StaticScene | Promise<StaticScene> => source(env),
    run(p, out, ctx) {
      const n = p[0];
      if (ctx.arenaBytes < RAY_BYTES * n) throw new EngineError('INVALID_OPTION', `physics.raycasts: arena slice of ${ctx.arenaBytes} bytes cannot hold ${n} rays`);
      const f = ctx.arenaF32;
      const inBase = ctx.arenaOffset >> 2;
      const outBase = inBase + RAY_IN_FLOATS * n;
      const scene = ctx.state;
      let blocked = 0;
      for (let i = 0; i < n; i++) {
        const r = inBase + i * RAY_IN_FLOATS;
        const t = scene.segment(f[r], f[r + 1], f[r + 2], f[r + 3], f[r + 4], f[r + 5]);
        f[outBase + i] = t;
        if (t >= 0) blocked++;
      }
      out[RAYS_BLOCKED] = blocked;
      out[RAYS_CLEAR] = n - blocked;
    },
  });
  return { predictKind, raycastsKind };
}

/** Scenes per thread, by the object their description came in (a shared buffer or the config's object). */
const scenes = new WeakMap<object, StaticScene>();

/**
 * The thread's scene for the static world the caller passed: `env.shared.staticWorld`
 * (a packStaticWorld buffer) or `env.config.staticWorld` (a StaticWorld object), built on
 * first use and shared by the kinds of the thread. Throws INVALID_OPTION when neither or
 * both are given or the description is bad, LAYOUT_MISMATCH for a buffer that is not a
 * packed static world; a kind's init turns these into WORKER_INIT_FAILED at start.
 */
export async function sceneFromEnv(env: WorkerEnv): Promise<StaticScene> {
  const shared = env.shared[STATIC_WORLD_KEY];
  const config = env.config[STATIC_WORLD_KEY];
  if (shared !== undefined && config !== undefined) {
    throw new EngineError('INVALID_OPTION', `the static world was given twice, as shared.${STATIC_WORLD_KEY} and as config.${STATIC_WORLD_KEY}: give one`);
  }
  const key = shared ?? config;
  if (key === undefined) {
    throw new EngineError(
      'INVALID_OPTION',
      `the Rapier kinds need a static world: EngineOptions.config.${STATIC_WORLD_KEY} = { colliders: [...] }, or shared.${STATIC_WORLD_KEY} = packStaticWorld(...)`,
    );
  }
  if (key === null || typeof key !== 'object') throw new EngineError('INVALID_OPTION', `config.${STATIC_WORLD_KEY} must be an object { colliders, gravity?, stepSeconds? }`);
  await initRapier();
  let s = scenes.get(key);
  if (!s) {
    const description: StaticWorld = shared !== undefined ? unpackStaticWorld(shared) : (config as StaticWorld);
    s = new StaticScene(description);
    scenes.set(key, s);
  }
  return s;
}

const ready = definePhysicsKinds({ scene: sceneFromEnv });

/**
 * `physics.predict`: where a ball of `radius` thrown from (px, py, pz) with velocity
 * (vx, vy, vz) first touches the static world within `steps` prediction steps (the
 * world's stepSeconds each, gravity integrated as Rapier does). Results: hit (1 or 0),
 * step and time of the touch (-1 without one), the ball's centre then (x, y, z; without
 * a hit, where it ends), the surface normal (nx, ny, nz).
 */
export const predictKind = ready.predictKind;
/**
 * `physics.raycasts`: a batch of `count` segments against the static world, through the
 * arena (layout in this module's header). Results: blocked, clear.
 */
export const raycastsKind = ready.raycastsKind;

/** Both Rapier kinds, in the order every thread registers them: pass to `EngineOptions.kinds` and `serveWorker`. */
export const kinds = [predictKind, raycastsKind] as const;

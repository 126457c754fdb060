/**
 * A static world as plain data: the colliders every thread builds its own Rapier query
 * world from, once, at init. Plain data crosses the thread boundary two ways:
 *
 * - `EngineOptions.config.staticWorld`: the StaticWorld object itself, structured-cloned
 *   into each worker. Simple; each worker holds its own copy of the description.
 * - `EngineOptions.shared.staticWorld`: a SharedArrayBuffer made by `packStaticWorld`,
 *   one copy in memory for every thread: for big worlds (thousands of boxes, meshes).
 *
 * Packed layout (a Float64Array over the buffer; f64 words, so every number travels exactly):
 *
 *   word  0        1        2        3          4..6          7
 *   +--------+--------+--------+----------+--------------+-------------+---------------------+
 *   | magic  | version| count N| words W  | gravity xyz  | stepSeconds | N collider records  |
 *   +--------+--------+--------+----------+--------------+-------------+---------------------+
 *   written once by packStaticWorld before the buffer is shared; read-only afterwards.
 *   W counts every word in use, header included; the buffer holds exactly W words.
 *
 *   record: [shape, length, px, py, pz, qx, qy, qz, qw, ...shape data]
 *     shape   SHAPE_BOX 1: hx hy hz | SHAPE_BALL 2: r | SHAPE_CAPSULE 3: halfHeight r
 *             SHAPE_CYLINDER 4: halfHeight r | SHAPE_TRIMESH 5: V I, V vertex coords, I indices
 *     length  words in this record, the shape word included
 *     q       rotation (0, 0, 0, 1 when none was given)
 *
 * Units are the caller's (the demo game: metres, Y up). Every bad input is an
 * EngineError: INVALID_OPTION for a bad value, LAYOUT_MISMATCH for a buffer that is not
 * a packed static world.
 */
import { EngineError } from '../../engine/errors.js';
import { type NavGrid, wallRects } from '../grid/nav-grid.js';

/** x, y, z. */
export type Vec3 = readonly [number, number, number];
/** A rotation as a quaternion x, y, z, w (normalised when the world is built). */
export type Quat = readonly [number, number, number, number];

/** Where a collider sits: `position` defaults to the origin, `rotation` to none. */
export interface Placement {
  readonly position?: Vec3;
  readonly rotation?: Quat;
}
/** A box: half its size along each local axis. */
export interface BoxCollider extends Placement {
  readonly shape: 'box';
  readonly halfExtents: Vec3;
}
/** A sphere. */
export interface BallCollider extends Placement {
  readonly shape: 'ball';
  readonly radius: number;
}
/** A capsule along the local Y axis: half the length of its segment, and its radius. */
export interface CapsuleCollider extends Placement {
  readonly shape: 'capsule';
  readonly halfHeight: number;
  readonly radius: number;
}
/** A cylinder along the local Y axis. */
export interface CylinderCollider extends Placement {
  readonly shape: 'cylinder';
  readonly halfHeight: number;
  readonly radius: number;
}
/** A triangle mesh: `vertices` x, y, z per vertex; `indices` three vertex numbers per triangle. */
export interface TrimeshCollider extends Placement {
  readonly shape: 'trimesh';
  readonly vertices: ArrayLike<number>;
  readonly indices: ArrayLike<number>;
}
/** One static collider, as plain data. */
export type StaticCollider = BoxCollider | BallCollider | CapsuleCollider | CylinderCollider | TrimeshCollider;

/** A static world: its colliders, and the two numbers impact predictions integrate with. */
export interface StaticWorld {
  /** The colliders, built in this order on every thread. */
  readonly colliders: readonly StaticCollider[];
  /** Gravity, units per second squared. Default [0, -9.81, 0]. */
  readonly gravity?: Vec3;
  /** Length of one prediction step, seconds (the predict kind's `steps` count these). Default 1/30. */
  readonly stepSeconds?: number;
}

/** The key of `EngineOptions.config` and of `EngineOptions.shared` the Rapier kinds read their static world from. */
export const STATIC_WORLD_KEY = 'staticWorld';
/** Gravity when a StaticWorld gives none: 9.81 down Y. */
export const DEFAULT_GRAVITY: Vec3 = [0, -9.81, 0];
/** Prediction step when a StaticWorld gives none: one 30 Hz frame. */
export const DEFAULT_STEP_SECONDS = 1 / 30;
/** Most colliders in one static world. */
export const MAX_COLLIDERS = 1 << 20;

export const SHAPE_BOX = 1;
export const SHAPE_BALL = 2;
export const SHAPE_CAPSULE = 3;
export const SHAPE_CYLINDER = 4;
export const SHAPE_TRIMESH = 5;

export const SW_MAGIC = 0x3144_5753; // 'SWD1' little-endian
export const SW_VERSION = 1;
export const SW_W_MAGIC = 0;
export const SW_W_VERSION = 1;
export const SW_W_COUNT = 2;
export const SW_W_WORDS = 3;
export const SW_W_GRAVITY = 4;
export const SW_W_STEP = 7;
export const SW_HEADER_WORDS = 8;
/** Words of a record before its shape data: shape, length, position, rotation. */
const REC_FIXED = 9;

/** A checked collider: every field present, numbers in range, mesh data typed. */
export interface CheckedCollider {
  readonly shape: number;
  readonly position: Vec3;
  /** Normalised; null for none (the identity). */
  readonly rotation: Quat | null;
  /** Box: hx hy hz. Ball: r. Capsule and cylinder: halfHeight r. Trimesh: empty. */
  readonly dims: readonly number[];
  readonly vertices: Float32Array | null;
  readonly indices: Uint32Array | null;
}

/** A checked static world, what a StaticScene is built from. */
export interface CheckedStaticWorld {
  readonly colliders: readonly CheckedCollider[];
  readonly gravity: Vec3;
  readonly stepSeconds: number;
}

const SHAPES: Readonly<Record<string, number>> = { box: SHAPE_BOX, ball: SHAPE_BALL, capsule: SHAPE_CAPSULE, cylinder: SHAPE_CYLINDER, trimesh: SHAPE_TRIMESH };

function bad(msg: string): never {
  throw new EngineError('INVALID_OPTION', msg);
}

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${what} must be a finite number, got ${String(v)}`);
  return v;
}

function positive(v: unknown, what: string): number {
  const n = finite(v, what);
  if (!(n > 0)) bad(`${what} must be > 0, got ${n}`);
  return n;
}

function vec3(v: unknown, what: string): Vec3 {
  if (v === null || typeof v !== 'object' || (v as ArrayLike<unknown>).length !== 3) bad(`${what} must be [x, y, z]`);
  const a = v as ArrayLike<unknown>;
  return [finite(a[0], `${what}[0]`), finite(a[1], `${what}[1]`), finite(a[2], `${what}[2]`)];
}

function quat(v: unknown, what: string): Quat | null {
  if (v === null || typeof v !== 'object' || (v as ArrayLike<unknown>).length !== 4) bad(`${what} must be [x, y, z, w]`);
  const a = v as ArrayLike<unknown>;
  const x = finite(a[0], `${what}[0]`), y = finite(a[1], `${what}[1]`), z = finite(a[2], `${what}[2]`), w = finite(a[3], `${what}[3]`);
  const n = Math.hypot(x, y, z, w);
  if (!(n > 1e-12)) bad(`${what} must not be all zeros`);
  // The identity is no rotation: the same collider as one given without a rotation.
  if (x === 0 && y === 0 && z === 0 && w > 0) return null;
  return [x / n, y / n, z / n, w / n];
}

function checkCollider(c: unknown, i: number): CheckedCollider {
  const at = `staticWorld.colliders[${i}]`;
  if (c === null || typeof c !== 'object') bad(`${at} must be an object with a shape`);
  const o = c as Record<string, unknown>;
  const shape = typeof o.shape === 'string' ? SHAPES[o.shape] : undefined;
  if (shape === undefined) bad(`${at}.shape must be one of ${Object.keys(SHAPES).join(', ')}, got ${JSON.stringify(o.shape)}`);
  const position = o.position === undefined ? ([0, 0, 0] as const) : vec3(o.position, `${at}.position`);
  const rotation = o.rotation === undefined ? null : quat(o.rotation, `${at}.rotation`);
  let dims: number[] = [];
  let vertices: Float32Array | null = null;
  let indices: Uint32Array | null = null;
  switch (shape) {
    case SHAPE_BOX: {
      const h = vec3(o.halfExtents, `${at}.halfExtents`);
      dims = [positive(h[0], `${at}.halfExtents[0]`), positive(h[1], `${at}.halfExtents[1]`), positive(h[2], `${at}.halfExtents[2]`)];
      break;
    }
    case SHAPE_BALL:
      dims = [positive(o.radius, `${at}.radius`)];
      break;
    case SHAPE_CAPSULE:
    case SHAPE_CYLINDER:
      dims = [positive(o.halfHeight, `${at}.halfHeight`), positive(o.radius, `${at}.radius`)];
      break;
    default: {
      const v = o.vertices as ArrayLike<unknown> | undefined;
      const x = o.indices as ArrayLike<unknown> | undefined;
      if (v === null || typeof v !== 'object' || typeof v.length !== 'number' || v.length < 9 || v.length % 3 !== 0) {
        bad(`${at}.vertices must hold x, y, z for at least 3 vertices`);
      }
      if (x === null || typeof x !== 'object' || typeof x.length !== 'number' || x.length < 3 || x.length % 3 !== 0) {
        bad(`${at}.indices must hold 3 vertex numbers per triangle, at least one triangle`);
      }
      const nv = v.length / 3;
      vertices = new Float32Array(v.length);
      for (let k = 0; k < v.length; k++) vertices[k] = finite(v[k], `${at}.vertices[${k}]`);
      indices = new Uint32Array(x.length);
      for (let k = 0; k < x.length; k++) {
        const n = x[k];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= nv) bad(`${at}.indices[${k}] must be a vertex number in [0, ${nv - 1}], got ${String(n)}`);
        indices[k] = n;
      }
    }
  }
  return { shape, position, rotation, dims, vertices, indices };
}

/**
 * Checks a static world description and fills in its defaults. Throws
 * EngineError('INVALID_OPTION') naming the first bad field (`staticWorld.colliders[3].radius
 * must be > 0, got -1`).
 */
export function checkStaticWorld(world: unknown): CheckedStaticWorld {
  if (world === null || typeof world !== 'object') bad('staticWorld must be an object { colliders, gravity?, stepSeconds? }');
  const w = world as Record<string, unknown>;
  if (!Array.isArray(w.colliders)) bad('staticWorld.colliders must be an array');
  if (w.colliders.length > MAX_COLLIDERS) bad(`staticWorld.colliders holds ${w.colliders.length} colliders, at most ${MAX_COLLIDERS}`);
  const gravity = w.gravity === undefined ? DEFAULT_GRAVITY : vec3(w.gravity, 'staticWorld.gravity');
  const stepSeconds = w.stepSeconds === undefined ? DEFAULT_STEP_SECONDS : positive(w.stepSeconds, 'staticWorld.stepSeconds');
  if (stepSeconds > 1) bad(`staticWorld.stepSeconds must be at most 1, got ${stepSeconds}`);
  return { colliders: w.colliders.map(checkCollider), gravity, stepSeconds };
}

/**
 * Packs a static world into a SharedArrayBuffer for `EngineOptions.shared.staticWorld`
 * (layout in this module's header). Checks it first: throws INVALID_OPTION as
 * checkStaticWorld does.
 */
export function packStaticWorld(world: StaticWorld): SharedArrayBuffer {
  const w = checkStaticWorld(world);
  let words = SW_HEADER_WORDS;
  for (const c of w.colliders) words += REC_FIXED + c.dims.length + (c.shape === SHAPE_TRIMESH ? 2 + c.vertices!.length + c.indices!.length : 0);
  const sab = new SharedArrayBuffer(words * 8);
  const f = new Float64Array(sab);
  f[SW_W_MAGIC] = SW_MAGIC;
  f[SW_W_VERSION] = SW_VERSION;
  f[SW_W_COUNT] = w.colliders.length;
  f[SW_W_WORDS] = words;
  f.set(w.gravity, SW_W_GRAVITY);
  f[SW_W_STEP] = w.stepSeconds;
  let o = SW_HEADER_WORDS;
  for (const c of w.colliders) {
    const start = o;
    f[o++] = c.shape;
    o++; // length, below
    f.set(c.position, o);
    o += 3;
    f.set(c.rotation ?? [0, 0, 0, 1], o);
    o += 4;
    f.set(c.dims, o);
    o += c.dims.length;
    if (c.shape === SHAPE_TRIMESH) {
      f[o++] = c.vertices!.length;
      f[o++] = c.indices!.length;
      f.set(c.vertices!, o);
      o += c.vertices!.length;
      f.set(c.indices!, o);
      o += c.indices!.length;
    }
    f[start + 1] = o - start;
  }
  return sab;
}

/**
 * Reads a buffer made by packStaticWorld back into a StaticWorld (any thread). Throws
 * LAYOUT_MISMATCH for a buffer that is not one (wrong magic, version or lengths).
 */
export function unpackStaticWorld(sab: SharedArrayBuffer): StaticWorld {
  const mismatch = (msg: string): never => {
    throw new EngineError('LAYOUT_MISMATCH', `shared.staticWorld: ${msg}`);
  };
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < SW_HEADER_WORDS * 8 || sab.byteLength % 8 !== 0) {
    mismatch('must be a SharedArrayBuffer made by packStaticWorld');
  }
  const f = new Float64Array(sab);
  if (f[SW_W_MAGIC] !== SW_MAGIC) mismatch('no SWD1 magic: was it made by packStaticWorld?');
  if (f[SW_W_VERSION] !== SW_VERSION) mismatch(`version ${f[SW_W_VERSION]}, this reader knows ${SW_VERSION}`);
  const words = f[SW_W_WORDS];
  if (words !== f.length) mismatch(`header says ${words} words, the buffer holds ${f.length}`);
  const count = f[SW_W_COUNT];
  if (!Number.isInteger(count) || count < 0 || count > MAX_COLLIDERS) mismatch(`collider count ${count}`);
  const colliders: StaticCollider[] = [];
  let o = SW_HEADER_WORDS;
  for (let i = 0; i < count; i++) {
    if (o + REC_FIXED > words) mismatch(`collider ${i} runs past the end`);
    const shape = f[o];
    const len = f[o + 1];
    if (!Number.isInteger(len) || len < REC_FIXED || o + len > words) mismatch(`collider ${i} has a bad length ${len}`);
    const position: Vec3 = [f[o + 2], f[o + 3], f[o + 4]];
    const rotation: Quat = [f[o + 5], f[o + 6], f[o + 7], f[o + 8]];
    const d = o + REC_FIXED;
    let c: StaticCollider;
    const want = (n: number): void => {
      if (len !== REC_FIXED + n) mismatch(`collider ${i} (shape ${shape}) has length ${len}, expected ${REC_FIXED + n}`);
    };
    switch (shape) {
      case SHAPE_BOX:
        want(3);
        c = { shape: 'box', halfExtents: [f[d], f[d + 1], f[d + 2]], position, rotation };
        break;
      case SHAPE_BALL:
        want(1);
        c = { shape: 'ball', radius: f[d], position, rotation };
        break;
      case SHAPE_CAPSULE:
      case SHAPE_CYLINDER:
        want(2);
        c = { shape: shape === SHAPE_CAPSULE ? 'capsule' : 'cylinder', halfHeight: f[d], radius: f[d + 1], position, rotation };
        break;
      case SHAPE_TRIMESH: {
        const nv = f[d], ni = f[d + 1];
        if (!Number.isInteger(nv) || !Number.isInteger(ni) || nv < 0 || ni < 0) mismatch(`collider ${i} has bad mesh sizes`);
        want(2 + nv + ni);
        c = { shape: 'trimesh', vertices: f.subarray(d + 2, d + 2 + nv), indices: f.subarray(d + 2 + nv, d + 2 + nv + ni), position, rotation };
        break;
      }
      default:
        return mismatch(`collider ${i} has an unknown shape code ${shape}`);
    }
    colliders.push(c);
    o += len;
  }
  if (o !== words) mismatch(`records end at word ${o}, the header says ${words}`);
  return { colliders, gravity: [f[SW_W_GRAVITY], f[SW_W_GRAVITY + 1], f[SW_W_GRAVITY + 2]], stepSeconds: f[SW_W_STEP] };
}

/** Options of gridColliders. */
export interface GridColliderOptions {
  /** Height of the wall boxes. Default 2. */
  readonly wallHeight?: number;
  /** Add a floor box under the whole grid, its top at Y = 0, half a unit thick. Default true. */
  readonly floor?: boolean;
}

/**
 * A nav grid's walls as boxes: cell (x, y) covers X in [x, x+1) and Z in [y, y+1), Y is
 * up, walls stand on Y = 0 and are `wallHeight` tall; adjacent wall cells are merged into
 * rectangles (wallRects), the floor (if any) comes first. The demo game's static world.
 */
export function gridColliders(grid: NavGrid, options: GridColliderOptions = {}): BoxCollider[] {
  const wallHeight = options.wallHeight === undefined ? 2 : positive(options.wallHeight, 'gridColliders wallHeight');
  const out: BoxCollider[] = [];
  if (options.floor !== false) {
    out.push({ shape: 'box', halfExtents: [grid.width / 2, 0.5, grid.height / 2], position: [grid.width / 2, -0.5, grid.height / 2] });
  }
  const rects = wallRects(grid);
  for (let i = 0; i < rects.length; i += 4) {
    const x = rects[i], y = rects[i + 1], w = rects[i + 2], h = rects[i + 3];
    out.push({ shape: 'box', halfExtents: [w / 2, wallHeight / 2, h / 2], position: [x + w / 2, wallHeight / 2, y + h / 2] });
  }
  return out;
}


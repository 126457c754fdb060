/**
 * Options are validated once, here, with messages that name the option, the rule and
 * the value. Everything downstream trusts the resolved object.
 */
import { platform } from '#platform';
import type { EngineOptions, WorkerHost, WorkerSource } from './api.js';
import { EngineError, shownValue, thrownText } from './errors.js';
import type { JobKind } from './kind.js';
import { TRACE_MAX_EVENTS, TRACE_MIN_EVENTS, isPowerOfTwo } from './layout.js';
import { builtModuleUrl } from './paths.js';

export interface ResolvedOptions {
  readonly workers: number;
  readonly kinds: readonly JobKind<any, any, any>[];
  readonly kindModules: readonly string[];
  readonly jobCapacity: number;
  readonly ringCapacity: number;
  readonly arenaBytes: number;
  readonly heartbeatMs: number;
  readonly staleMs: number;
  readonly hangTimeoutMs: number;
  readonly initTimeoutMs: number;
  readonly maxQueueMs: number;
  readonly shared: Readonly<Record<string, SharedArrayBuffer>>;
  readonly config: Readonly<Record<string, unknown>>;
  readonly workerUrl: string | URL | undefined;
  /** What the host spawns: workerFactory, else workerUrl, else (Node) the package's own worker entry. */
  readonly workerSource: WorkerSource;
  readonly host: WorkerHost | undefined;
  readonly resourceLimits: EngineOptions['resourceLimits'];
  readonly maxRespawnsPerMinute: number;
  readonly workerNice: number;
  readonly batchThreads: boolean;
  readonly backgroundWorkers: number;
  readonly arenaGuards: boolean;
  readonly framePacing: boolean;
  /** Events per trace ring; 0: tracing off. */
  readonly traceEvents: number;
}

const bad = (msg: string): never => {
  throw new EngineError('INVALID_OPTION', msg);
};


function int(name: string, v: unknown, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(`options.${name} must be an integer in [${min}, ${max}], got ${shownValue(v)}`);
  }
  return v as number;
}

/** Longest delay a timer takes (setTimeout turns anything longer into 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longest heartbeat period: the worker's sleep timeout, stored in an int32 header word. */
const MAX_HEARTBEAT_MS = 60_000;

function ms(name: string, v: unknown, def: number, max: number, allowInfinity = false): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (!allowInfinity && !Number.isFinite(v)) || (Number.isFinite(v) && v > max)) {
    bad(`options.${name} must be a positive number of milliseconds up to ${max}${allowInfinity ? ' (or Infinity)' : ''}, got ${shownValue(v)}`);
  }
  return v as number;
}

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

/** Every key EngineOptions has; anything else is refused, with the nearest of these named. */
export const OPTION_KEYS: readonly (keyof EngineOptions)[] = [
  'workers',
  'kinds',
  'kindModules',
  'jobCapacity',
  'ringCapacity',
  'arenaBytes',
  'heartbeatMs',
  'staleMs',
  'hangTimeoutMs',
  'initTimeoutMs',
  'maxQueueMs',
  'shared',
  'config',
  'workerFactory',
  'workerUrl',
  'host',
  'resourceLimits',
  'workerNice',
  'batchThreads',
  'maxRespawnsPerMinute',
  'backgroundWorkers',
  'arenaGuards',
  'framePacing',
  'trace',
];

/** Events per trace ring when EngineOptions.trace does not say. */
export const DEFAULT_TRACE_EVENTS = 1 << 16;

/** Most workers the default picks, however many cores: past this, wake-ups cost more than they bring. */
export const MAX_DEFAULT_WORKERS = 16;

/** The default worker count: one fewer than the cores (the game loop keeps one), at least 1, at most MAX_DEFAULT_WORKERS. */
export function defaultWorkerCount(cores: number = platform.cores()): number {
  if (!(cores >= 1)) return 1;
  return Math.max(1, Math.min(MAX_DEFAULT_WORKERS, Math.floor(cores) - 1));
}

/** Edit distance, ignoring case (so `maxQueueMS` is one step from `maxQueueMs`). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]! + (a === b || x !== y ? 0 : 0.5);
}

/** The valid key nearest to `key`, or null when none is close. */
export function nearestKey(key: string, keys: readonly string[] = OPTION_KEYS): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of keys) {
    const d = distance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/**
 * The one rule for module and worker URLs given as strings: a URL with a scheme is used
 * as given; on Node an absolute path becomes a file: URL; anything else (a relative path,
 * a bare name) is refused, because the main thread and a worker would resolve it
 * against different places.
 */
function absoluteUrl(name: string, v: unknown): string {
  if (v instanceof URL) return v.href;
  if (typeof v !== 'string' || v === '') return bad(`${name} must be a URL or a non-empty string, got ${shownValue(v)}`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(v) && !/^[a-z]:[\\/]/i.test(v)) return v;
  if (platform.runtime === 'node') {
    if (v.startsWith('/')) return new URL(`file://${encodeURI(v)}`).href;
    if (/^[a-z]:[\\/]/i.test(v)) return new URL(`file:///${encodeURI(v.replace(/\\/g, '/'))}`).href;
  }
  return bad(
    `${name} must be a URL or an absolute path, got ${shownValue(v)}: a relative path would resolve differently on the main thread and in a worker; pass new URL(${shownValue(v)}, import.meta.url)`,
  );
}

export function resolveOptions(o: EngineOptions | undefined): ResolvedOptions {
  if (o !== undefined && (typeof o !== 'object' || o === null)) bad('options must be an object');
  const opts = o ?? {};
  for (const key of Object.keys(opts)) {
    if ((OPTION_KEYS as readonly string[]).includes(key)) continue;
    const near = nearestKey(key);
    bad(`options.${key} is not an option${near !== null ? `; did you mean ${near}?` : `; the options are ${OPTION_KEYS.join(', ')}`}`);
  }
  const workers = int('workers', opts.workers, defaultWorkerCount(), 0, 64);
  const jobCapacity = int('jobCapacity', opts.jobCapacity, 16384, 2, 1 << 20);
  if (!isPowerOfTwo(jobCapacity)) bad(`options.jobCapacity must be a power of two, got ${jobCapacity}`);
  const ringDefault = Math.max(2, nextPow2(Math.ceil(jobCapacity / Math.max(1, workers))));
  const ringCapacity = int('ringCapacity', opts.ringCapacity, ringDefault, 2, 1 << 20);
  if (!isPowerOfTwo(ringCapacity)) bad(`options.ringCapacity must be a power of two, got ${ringCapacity}`);
  const arenaBytes = int('arenaBytes', opts.arenaBytes, 4 << 20, 0, 1 << 30);
  if (arenaBytes % 8 !== 0) bad(`options.arenaBytes must be a multiple of 8, got ${arenaBytes}`);
  const heartbeatMs = ms('heartbeatMs', opts.heartbeatMs, 50, MAX_HEARTBEAT_MS);
  if (!Number.isInteger(heartbeatMs)) bad(`options.heartbeatMs must be a whole number of milliseconds, got ${heartbeatMs}`);
  const staleMs = ms('staleMs', opts.staleMs, 3 * heartbeatMs, MAX_TIMER_MS);
  const hangTimeoutMs = ms('hangTimeoutMs', opts.hangTimeoutMs, 1000, MAX_TIMER_MS);
  const initTimeoutMs = ms('initTimeoutMs', opts.initTimeoutMs, 10_000, MAX_TIMER_MS);
  const maxQueueMs = ms('maxQueueMs', opts.maxQueueMs, Infinity, Number.MAX_VALUE, true);
  const workerNice = int('workerNice', opts.workerNice, 10, 0, 19);
  const batchThreads = opts.batchThreads ?? true;
  if (typeof batchThreads !== 'boolean') bad(`options.batchThreads must be true or false, got ${shownValue(batchThreads)}`);
  const maxRespawnsPerMinute = int('maxRespawnsPerMinute', opts.maxRespawnsPerMinute, 30, 0, 1_000_000);
  const arenaGuards = opts.arenaGuards ?? false;
  if (typeof arenaGuards !== 'boolean') bad(`options.arenaGuards must be true or false, got ${shownValue(arenaGuards)}`);
  const framePacing = opts.framePacing ?? false;
  if (typeof framePacing !== 'boolean') bad(`options.framePacing must be true or false, got ${shownValue(framePacing)}`);
  const backgroundWorkers = int('backgroundWorkers', opts.backgroundWorkers, Math.max(1, workers - 1), 1, 64);
  if (opts.kindModules !== undefined && !Array.isArray(opts.kindModules)) bad('options.kindModules must be an array');
  const kindModules = (opts.kindModules ?? []).map((m, i) => absoluteUrl(`options.kindModules[${i}]`, m));
  const kinds = opts.kinds ?? [];
  if (!Array.isArray(kinds)) bad('options.kinds must be an array of defineKind(...) results');
  const workerFactory = opts.workerFactory;
  if (workerFactory !== undefined && typeof workerFactory !== 'function') {
    bad(`options.workerFactory must be a function that returns a new Worker, got ${shownValue(workerFactory)}`);
  }
  const workerUrl = opts.workerUrl === undefined ? undefined : absoluteUrl('options.workerUrl', opts.workerUrl);
  let workerSource: WorkerSource;
  if (workerFactory !== undefined) workerSource = workerFactory;
  else if (workerUrl !== undefined) workerSource = workerUrl;
  else if (platform.runtime === 'node') workerSource = builtModuleUrl(import.meta.url, './worker-entry.js');
  else {
    if (workers > 0 && opts.host === undefined) {
      bad(
        "options.workerFactory is needed for workers in a browser: () => new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }), where worker.ts calls serveWorker(kinds) from framejobs/worker (or start with workers: 0)",
      );
    }
    workerSource = '';
  }
  const shared = opts.shared ?? {};
  for (const [k, v] of Object.entries(shared)) {
    if (!(v instanceof SharedArrayBuffer)) bad(`options.shared.${k} must be a SharedArrayBuffer`);
  }
  if (opts.shared !== undefined && (typeof opts.shared !== 'object' || opts.shared === null)) bad('options.shared must be an object of SharedArrayBuffers');
  const config = opts.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) bad('options.config must be an object');
  try {
    // Every worker gets a structured clone of it; find out now rather than at spawn.
    structuredClone(config);
  } catch (err) {
    bad(`options.config must survive structuredClone (it is copied to every worker): ${thrownText(err)}`);
  }
  const rl = opts.resourceLimits;
  if (rl !== undefined) {
    if (typeof rl !== 'object' || rl === null) bad('options.resourceLimits must be an object');
    if (rl.maxOldGenerationSizeMb !== undefined) int('resourceLimits.maxOldGenerationSizeMb', rl.maxOldGenerationSizeMb, 0, 1);
    if (rl.maxYoungGenerationSizeMb !== undefined) int('resourceLimits.maxYoungGenerationSizeMb', rl.maxYoungGenerationSizeMb, 0, 1);
  }
  const traceEvents = traceSize(opts.trace);
  return {
    workers,
    kinds,
    kindModules,
    jobCapacity,
    ringCapacity,
    arenaBytes,
    heartbeatMs,
    staleMs,
    hangTimeoutMs,
    initTimeoutMs,
    maxQueueMs,
    shared,
    config,
    workerUrl,
    workerSource,
    host: opts.host,
    resourceLimits: rl,
    maxRespawnsPerMinute,
    workerNice,
    batchThreads,
    backgroundWorkers,
    arenaGuards,
    framePacing,
    traceEvents,
  };
}

function traceSize(t: unknown): number {
  if (t === undefined || t === false) return 0;
  if (t === true) return DEFAULT_TRACE_EVENTS;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return bad(`options.trace must be true, false or { events?: number }, got ${shownValue(t)}`);
  for (const key of Object.keys(t)) if (key !== 'events') bad(`options.trace.${key} is not an option; the trace options are: events`);
  let raw: unknown;
  try {
    raw = (t as { events?: unknown }).events;
  } catch {
    return bad('options.trace could not be read');
  }
  const events = int('trace.events', raw, DEFAULT_TRACE_EVENTS, TRACE_MIN_EVENTS, TRACE_MAX_EVENTS);
  if (!isPowerOfTwo(events)) bad(`options.trace.events must be a power of two, got ${events}`);
  return events;
}

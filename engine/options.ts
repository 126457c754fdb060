/**
 * Options are validated once, here, with messages that name the option, the rule and
 * the value. Everything downstream trusts the resolved object.
 */
import type { EngineOptions, WorkerHost } from './api.js';
import { EngineError } from './errors.js';
import { isPowerOfTwo } from './layout.js';

export interface ResolvedOptions {
  readonly workers: number;
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
  readonly host: WorkerHost | undefined;
  readonly resourceLimits: EngineOptions['resourceLimits'];
  readonly maxRespawnsPerMinute: number;
  readonly workerNice: number;
  readonly backgroundWorkers: number;
}

const bad = (msg: string): never => {
  throw new EngineError('INVALID_OPTION', msg);
};

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

function int(name: string, v: unknown, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(`options.${name} must be an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return v as number;
}

function ms(name: string, v: unknown, def: number, allowInfinity = false): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0 || (!allowInfinity && !Number.isFinite(v))) {
    bad(`options.${name} must be a positive number of milliseconds${allowInfinity ? ' (or Infinity)' : ''}, got ${show(v)}`);
  }
  return v as number;
}

const nextPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));

export function resolveOptions(o: EngineOptions | undefined): ResolvedOptions {
  if (o !== undefined && (typeof o !== 'object' || o === null)) bad('options must be an object');
  const opts = o ?? {};
  const workers = int('workers', opts.workers, 4, 0, 64);
  const jobCapacity = int('jobCapacity', opts.jobCapacity, 16384, 2, 1 << 20);
  if (!isPowerOfTwo(jobCapacity)) bad(`options.jobCapacity must be a power of two, got ${jobCapacity}`);
  const ringDefault = Math.max(2, nextPow2(Math.ceil(jobCapacity / Math.max(1, workers))));
  const ringCapacity = int('ringCapacity', opts.ringCapacity, ringDefault, 2, 1 << 20);
  if (!isPowerOfTwo(ringCapacity)) bad(`options.ringCapacity must be a power of two, got ${ringCapacity}`);
  const arenaBytes = int('arenaBytes', opts.arenaBytes, 4 << 20, 0, 1 << 30);
  if (arenaBytes % 8 !== 0) bad(`options.arenaBytes must be a multiple of 8, got ${arenaBytes}`);
  const heartbeatMs = ms('heartbeatMs', opts.heartbeatMs, 50);
  if (!Number.isInteger(heartbeatMs)) bad(`options.heartbeatMs must be a whole number of milliseconds, got ${heartbeatMs}`);
  const staleMs = ms('staleMs', opts.staleMs, 3 * heartbeatMs);
  const hangTimeoutMs = ms('hangTimeoutMs', opts.hangTimeoutMs, 1000);
  const initTimeoutMs = ms('initTimeoutMs', opts.initTimeoutMs, 10_000);
  const maxQueueMs = ms('maxQueueMs', opts.maxQueueMs, Infinity, true);
  const workerNice = int('workerNice', opts.workerNice, 10, 0, 19);
  const maxRespawnsPerMinute = int('maxRespawnsPerMinute', opts.maxRespawnsPerMinute, 30, 0, 1_000_000);
  const backgroundWorkers = int('backgroundWorkers', opts.backgroundWorkers, Math.max(1, workers - 1), 1, 64);
  const kindModules = (opts.kindModules ?? []).map((m, i) => {
    if (m instanceof URL) return m.href;
    if (typeof m !== 'string' || m === '') return bad(`options.kindModules[${i}] must be a URL or a non-empty string, got ${show(m)}`);
    return m.startsWith('/') ? new URL(`file://${m}`).href : m;
  });
  const shared = opts.shared ?? {};
  for (const [k, v] of Object.entries(shared)) {
    if (!(v instanceof SharedArrayBuffer)) bad(`options.shared.${k} must be a SharedArrayBuffer`);
  }
  const config = opts.config ?? {};
  if (typeof config !== 'object' || config === null) bad('options.config must be an object');
  const rl = opts.resourceLimits;
  if (rl !== undefined) {
    if (typeof rl !== 'object' || rl === null) bad('options.resourceLimits must be an object');
    if (rl.maxOldGenerationSizeMb !== undefined) int('resourceLimits.maxOldGenerationSizeMb', rl.maxOldGenerationSizeMb, 0, 1);
    if (rl.maxYoungGenerationSizeMb !== undefined) int('resourceLimits.maxYoungGenerationSizeMb', rl.maxYoungGenerationSizeMb, 0, 1);
  }
  return {
    workers,
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
    workerUrl: opts.workerUrl,
    host: opts.host,
    resourceLimits: rl,
    maxRespawnsPerMinute,
    workerNice,
    backgroundWorkers,
  };
}

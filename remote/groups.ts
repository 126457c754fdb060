/**
 * Groups: a batch (a group of jobs) chooses where it runs, `inline` (the calling
 * thread), `local` (the engine's worker threads) or `bullmq` (remote workers through
 * Redis). Settings merge field by field, the most specific layer winning:
 *
 *   group  >  per-kind default  >  engine default  >  built-in (`local`)
 *
 * Code that never names a group is untouched: EngineCore.submit/poll do not know groups
 * exist, and a batch run with no group gets the built-in (or the configured defaults).
 *
 * Frame-deadline work stays local. A kind that declares `deadlineFrames` exists to be
 * applied within 1-2 frames of 33 ms; a Redis round trip plus a remote worker's queue
 * is not a promise that can be kept, so routing such a kind to `bullmq` is refused with
 * BackendError('FRAME_DEADLINE_REMOTE') before anything is queued.
 */
import type { EngineCore } from '../engine/core.js';
import type { JobKind } from '../engine/kind.js';
import { shownValue } from '../engine/errors.js';
import { EngineBackend, checkBatch, checkMaxInFlight } from './engine-backend.js';
import { BackendError } from './errors.js';
import type { BackendName, BatchBackend, BatchRun, BatchSummary, Task, TaskSource } from './types.js';
import { taskAt } from './validate.js';

export const BACKEND_NAMES: readonly BackendName[] = ['inline', 'local', 'bullmq'];

/** What a group (or a default layer) may set. Unset fields fall through to the next layer. */
export interface GroupConfig {
  readonly backend?: BackendName;
  /** Most tasks in flight for the batch. */
  readonly maxInFlight?: number;
}

/** A group's settings once every layer is merged. */
export interface ResolvedGroupConfig {
  readonly backend: BackendName;
  readonly maxInFlight: number | undefined;
}

/** The bottom layer: batches run on the engine's workers. */
export const BUILT_IN_GROUP_CONFIG: ResolvedGroupConfig = Object.freeze({ backend: 'local', maxInFlight: undefined });

/** The engine that runs local batches, the default layers, and the bullmq backend if any group may choose it. */
export interface JobGroupsOptions {
  /** The engine that runs `inline` and `local` batches and knows the kinds. Give batches an engine of their own. */
  readonly engine: EngineCore;
  /** The engine default layer. */
  readonly defaults?: GroupConfig;
  /** Per-kind default layer, by kind name. */
  readonly kinds?: Readonly<Record<string, GroupConfig>>;
  /** The backend for `bullmq` groups (a connected BullmqBackend), or a function that connects one on first use. */
  readonly bullmq?: BatchBackend | (() => Promise<BatchBackend>);
}

/** A layer read once into a frozen plain copy (or undefined). Throws INVALID_OPTION. */
function readLayer(layer: unknown, where: string): GroupConfig | undefined {
  if (layer === undefined) return undefined;
  if (typeof layer !== 'object' || layer === null) throw new BackendError('INVALID_OPTION', `${where} must be an object`);
  let backend: unknown;
  let maxInFlight: unknown;
  try {
    const l = layer as { backend?: unknown; maxInFlight?: unknown };
    backend = l.backend;
    maxInFlight = l.maxInFlight;
  } catch (err) {
    throw new BackendError('INVALID_OPTION', `${where} could not be read`, { cause: err });
  }
  if (backend !== undefined && !BACKEND_NAMES.includes(backend as BackendName)) {
    throw new BackendError('INVALID_OPTION', `${where}.backend must be one of ${BACKEND_NAMES.join(', ')}, got ${shownValue(backend)}`);
  }
  if (maxInFlight !== undefined) checkMaxInFlight(maxInFlight, `${where}.maxInFlight`);
  return Object.freeze({ backend: backend as BackendName | undefined, maxInFlight: maxInFlight as number | undefined });
}

/** The per-kind layers, read once into a map. Throws INVALID_OPTION. */
function readKindLayers(kinds: unknown): ReadonlyMap<string, GroupConfig> {
  const out = new Map<string, GroupConfig>();
  if (kinds === undefined) return out;
  if (typeof kinds !== 'object' || kinds === null) throw new BackendError('INVALID_OPTION', 'kinds must be an object of kind name to group settings');
  let entries: [string, unknown][];
  try {
    entries = Object.entries(kinds);
  } catch (err) {
    throw new BackendError('INVALID_OPTION', 'kinds could not be read', { cause: err });
  }
  for (const [name, layer] of entries) {
    const read = readLayer(layer, `kinds[${JSON.stringify(name)}]`);
    if (read !== undefined) out.set(name, read);
  }
  return out;
}

/** Merges layers from least to most specific; a field a layer leaves undefined falls through. */
export function mergeGroupConfig(...layers: readonly (GroupConfig | undefined)[]): ResolvedGroupConfig {
  let backend: BackendName = BUILT_IN_GROUP_CONFIG.backend;
  let maxInFlight: number | undefined = BUILT_IN_GROUP_CONFIG.maxInFlight;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer.backend !== undefined) backend = layer.backend;
    if (layer.maxInFlight !== undefined) maxInFlight = layer.maxInFlight;
  }
  return { backend, maxInFlight };
}

/** True for kinds that carry a frame deadline: they must run where a frame can wait for them. */
export const hasFrameDeadline = (kind: JobKind<any>): boolean => kind.deadlineFrames !== undefined;

export function frameDeadlineRefusal(kindName: string, backend: BackendName): BackendError {
  return new BackendError(
    'FRAME_DEADLINE_REMOTE',
    `kind ${kindName} has a frame deadline and cannot run on the ${backend} backend: a network round trip does not fit a 33 ms frame; run it inline or on local workers`,
  );
}

function readGroupRun(run: GroupRun): { group: GroupConfig | undefined; kind: string | undefined } {
  if (typeof run !== 'object' || run === null) throw new BackendError('INVALID_OPTION', 'the group run must be an object');
  let group: unknown;
  let kind: unknown;
  try {
    group = run.group;
    kind = run.kind;
  } catch (err) {
    throw new BackendError('INVALID_OPTION', 'the group run could not be read', { cause: err });
  }
  if (kind !== undefined && typeof kind !== 'string') throw new BackendError('INVALID_OPTION', `the group run's kind must be a kind name, got ${shownValue(kind)}`);
  return { group: readLayer(group, 'group'), kind };
}

/** Per batch: its group's settings and the kind its per-kind defaults are looked up by. */
export interface GroupRun {
  /** The group's own settings (the most specific layer). */
  readonly group?: GroupConfig;
  /** The batch's kind, for per-kind defaults. Default: the kind of the first task. */
  readonly kind?: string;
}

export class JobGroups {
  private readonly engine: EngineCore;
  private readonly defaults: GroupConfig | undefined;
  private readonly kindDefaults: ReadonlyMap<string, GroupConfig>;
  private readonly bullmqSource: JobGroupsOptions['bullmq'];
  private bullmq: Promise<BatchBackend> | null = null;
  private readonly engineBackends = new Map<'inline' | 'local', EngineBackend>();

  constructor(options: JobGroupsOptions) {
    let o: { engine: unknown; defaults: unknown; kinds: unknown; bullmq: unknown };
    try {
      if (typeof options !== 'object' || options === null) throw new TypeError('not an object');
      o = { engine: options.engine, defaults: options.defaults, kinds: options.kinds, bullmq: options.bullmq };
    } catch (err) {
      throw new BackendError('INVALID_OPTION', 'JobGroups needs { engine }', { cause: err });
    }
    const engine = o.engine as EngineCore | null | undefined;
    if (typeof engine !== 'object' || engine === null || typeof engine.submit !== 'function') throw new BackendError('INVALID_OPTION', 'JobGroups needs { engine }');
    if (o.bullmq !== undefined && typeof o.bullmq !== 'function' && (typeof o.bullmq !== 'object' || o.bullmq === null)) {
      throw new BackendError('INVALID_OPTION', 'bullmq must be a backend or a function that connects one');
    }
    this.engine = engine;
    this.defaults = readLayer(o.defaults, 'defaults');
    this.kindDefaults = readKindLayers(o.kinds);
    this.bullmqSource = o.bullmq as JobGroupsOptions['bullmq'];
  }

  private kindDecl(name: string): JobKind<any> | undefined {
    return this.engine.kinds.find((k) => k.name === name);
  }

  /** The merged settings for a batch of `kind` in `group`. Throws FRAME_DEADLINE_REMOTE or INVALID_OPTION. */
  resolve(kind: string, group?: GroupConfig): ResolvedGroupConfig {
    if (typeof kind !== 'string') throw new BackendError('INVALID_OPTION', `kind must be a kind name, got ${shownValue(kind)}`);
    const resolved = mergeGroupConfig(this.defaults, this.kindDefaults.get(kind), readLayer(group, 'group'));
    const decl = this.kindDecl(kind);
    if (resolved.backend === 'bullmq' && decl !== undefined && hasFrameDeadline(decl)) throw frameDeadlineRefusal(kind, resolved.backend);
    return resolved;
  }

  /**
   * Runs a batch on the backend its group resolves to. The batch is read once (a malformed
   * one is refused with INVALID_TASK), and each task once: the task read to find the batch's
   * kind is the one the backend runs.
   */
  async runBatch(batch: BatchRun, run: GroupRun = {}): Promise<BatchSummary & { backend: BackendName }> {
    const read = checkBatch(batch);
    const { group, kind: named } = readGroupRun(run);
    const source = read.tasks;
    const first = named === undefined && source.count > 0 ? taskAt(source, 0) : undefined;
    // A first task that is not a task has no kind to route by (it fails on its own).
    const kind = named ?? (first === undefined || first.kind === '' ? undefined : first.kind);
    const resolved = kind === undefined ? mergeGroupConfig(this.defaults, group) : this.resolve(kind, group);
    const backend = await this.backendFor(resolved.backend);
    const tasks = this.routedTasks(source, first, resolved.backend === 'bullmq');
    const summary = await backend.runBatch({ ...read, tasks, maxInFlight: read.maxInFlight ?? resolved.maxInFlight });
    return { ...summary, backend: resolved.backend };
  }

  /**
   * The batch's tasks as the backend sees them: each read once (the first one already was),
   * and on a remote backend, a frame-deadline kind anywhere in the batch is refused.
   */
  private routedTasks(source: TaskSource, first: Task | undefined, remote: boolean): TaskSource {
    const checked = new Set<string>();
    let firstTask = first;
    return {
      count: source.count,
      task: (i: number): Task => {
        let t: Task;
        if (i === 0 && firstTask !== undefined) {
          t = firstTask;
          firstTask = undefined;
        } else {
          t = taskAt(source, i);
        }
        if (remote && !checked.has(t.kind)) {
          const decl = this.kindDecl(t.kind);
          if (decl !== undefined && hasFrameDeadline(decl)) throw frameDeadlineRefusal(t.kind, 'bullmq');
          checked.add(t.kind);
        }
        return t;
      },
    };
  }

  private async backendFor(name: BackendName): Promise<BatchBackend> {
    if (name === 'bullmq') {
      const source = this.bullmqSource;
      if (source === undefined) throw new BackendError('INVALID_OPTION', 'a group chose the bullmq backend but JobGroups was given no bullmq backend');
      this.bullmq ??= typeof source === 'function' ? source() : Promise.resolve(source);
      return this.bullmq;
    }
    let b = this.engineBackends.get(name);
    if (b === undefined) {
      b = new EngineBackend(this.engine, { mode: name });
      this.engineBackends.set(name, b);
    }
    return b;
  }

  /** Closes the backends the groups opened (a bullmq backend too); the engine stays running. */
  async close(): Promise<void> {
    for (const b of this.engineBackends.values()) await b.close();
    if (this.bullmq !== null) await (await this.bullmq).close();
  }
}

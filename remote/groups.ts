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
import { EngineBackend, checkMaxInFlight } from './engine-backend.js';
import { BackendError } from './errors.js';
import type { BackendName, BatchBackend, BatchRun, BatchSummary, Task } from './types.js';

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

function checkLayer(layer: GroupConfig | undefined, where: string): void {
  if (layer === undefined) return;
  if (typeof layer !== 'object' || layer === null) throw new BackendError('INVALID_OPTION', `${where} must be an object`);
  if (layer.backend !== undefined && !BACKEND_NAMES.includes(layer.backend)) {
    throw new BackendError('INVALID_OPTION', `${where}.backend must be one of ${BACKEND_NAMES.join(', ')}, got ${JSON.stringify(layer.backend)}`);
  }
  if (layer.maxInFlight !== undefined) checkMaxInFlight(layer.maxInFlight, `${where}.maxInFlight`);
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
  private readonly kindDefaults: Readonly<Record<string, GroupConfig>>;
  private readonly bullmqSource: JobGroupsOptions['bullmq'];
  private bullmq: Promise<BatchBackend> | null = null;
  private readonly engineBackends = new Map<'inline' | 'local', EngineBackend>();

  constructor(options: JobGroupsOptions) {
    if (typeof options !== 'object' || options === null || typeof options.engine?.submit !== 'function') {
      throw new BackendError('INVALID_OPTION', 'JobGroups needs { engine }');
    }
    checkLayer(options.defaults, 'defaults');
    for (const [name, layer] of Object.entries(options.kinds ?? {})) checkLayer(layer, `kinds[${JSON.stringify(name)}]`);
    this.engine = options.engine;
    this.defaults = options.defaults;
    this.kindDefaults = options.kinds ?? {};
    this.bullmqSource = options.bullmq;
  }

  private kindDecl(name: string): JobKind<any> | undefined {
    return this.engine.kinds.find((k) => k.name === name);
  }

  /** The merged settings for a batch of `kind` in `group`. Throws FRAME_DEADLINE_REMOTE or INVALID_OPTION. */
  resolve(kind: string, group?: GroupConfig): ResolvedGroupConfig {
    checkLayer(group, 'group');
    const kindLayer = Object.prototype.hasOwnProperty.call(this.kindDefaults, kind) ? this.kindDefaults[kind] : undefined;
    const resolved = mergeGroupConfig(this.defaults, kindLayer, group);
    const decl = this.kindDecl(kind);
    if (resolved.backend === 'bullmq' && decl !== undefined && hasFrameDeadline(decl)) throw frameDeadlineRefusal(kind, resolved.backend);
    return resolved;
  }

  /** Runs a batch on the backend its group resolves to. */
  async runBatch(batch: BatchRun, run: GroupRun = {}): Promise<BatchSummary & { backend: BackendName }> {
    const { count } = batch.tasks;
    const kind = run.kind ?? (count > 0 ? batch.tasks.task(0).kind : undefined);
    const resolved = kind === undefined ? mergeGroupConfig(this.defaults, run.group) : this.resolve(kind, run.group);
    const backend = await this.backendFor(resolved.backend);
    const guarded = resolved.backend === 'bullmq' ? this.guardFrameKinds(batch) : batch;
    const summary = await backend.runBatch({ ...guarded, maxInFlight: batch.maxInFlight ?? resolved.maxInFlight });
    return { ...summary, backend: resolved.backend };
  }

  /** Every task of a remote batch is checked too: a frame-deadline kind anywhere in it is refused. */
  private guardFrameKinds(batch: BatchRun): BatchRun {
    const checked = new Set<string>();
    const source = batch.tasks;
    return {
      ...batch,
      tasks: {
        count: source.count,
        task: (i: number): Task => {
          const t = source.task(i);
          if (!checked.has(t.kind)) {
            const decl = this.kindDecl(t.kind);
            if (decl !== undefined && hasFrameDeadline(decl)) throw frameDeadlineRefusal(t.kind, 'bullmq');
            checked.add(t.kind);
          }
          return t;
        },
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

/**
 * Task validation shared by every backend and by the remote worker, so a malformed task
 * fails with the same reason and the same words wherever it runs. The parameter rules
 * are the engine's submit rules (count, number, NaN, integer i32, declared range); the
 * engine still checks again at submit.
 */
import type { JobKind } from '../engine/kind.js';
import { MAX_PARAMS, MAX_RESULTS } from '../engine/kind.js';
import { BackendError } from './errors.js';
import type { Task, TaskResult, TaskSource } from './types.js';

const KIND_NAME_RE = /^[a-z][a-z0-9_.-]{0,62}$/i;

/** A failed result with a stable reason code. */
export const failure = (reason: string, message: string): TaskResult => ({ status: 'failed', values: [], reason, message });

/** Tasks this module read and froze, and the failure of each one that could not be read. */
const snapshots = new WeakSet<object>();
const unreadable = new WeakMap<object, TaskResult>();

const standIn = (bad: TaskResult): Task => {
  const t: Task = Object.freeze({ kind: '', params: Object.freeze([]) });
  snapshots.add(t);
  unreadable.set(t, bad);
  return t;
};

const malformed = (message: string): Task => standIn(failure('malformed-task', message));

/**
 * Reads a task that arrived as data (from a queue, from a caller's task source) once, into
 * a frozen plain task: `kind` read once, `params` read once, its length once and each value
 * once. A getter, a Proxy or an array whose contents change cannot make the task checked
 * differ from the task run, queued or hashed. Data that is not a task (not an object, a kind
 * that is not a kind name, params that are not at most MAX_PARAMS finite numbers, a read
 * that throws) becomes a stand-in that `checkTaskShape` and `checkTask` fail with
 * `malformed-task` and the reason found. Reading a task this returned gives it back as is.
 */
export function snapshotTask(data: unknown): Task {
  if (typeof data !== 'object' || data === null) return malformed('task data must be an object');
  if (snapshots.has(data)) return data as Task;
  let kind: unknown;
  let params: unknown;
  try {
    if (Array.isArray(data)) return malformed('task data must be an object');
    const t = data as { kind?: unknown; params?: unknown };
    kind = t.kind;
    params = t.params;
  } catch {
    return malformed('task data could not be read');
  }
  if (typeof kind !== 'string' || !KIND_NAME_RE.test(kind)) return malformed('task kind must be a kind name');
  const values: number[] = [];
  try {
    if (!Array.isArray(params)) return malformed('task params must be an array of numbers');
    const list = params as readonly unknown[];
    const n = list.length;
    if (n > MAX_PARAMS) return malformed(`task params must hold at most ${MAX_PARAMS} numbers`);
    for (let i = 0; i < n; i++) {
      const v = list[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) return malformed('task params must be finite numbers');
      values.push(v);
    }
  } catch {
    return malformed('task params could not be read');
  }
  const task: Task = Object.freeze({ kind, params: Object.freeze(values) });
  snapshots.add(task);
  return task;
}

/**
 * Checks the shape of a task that arrived as data: a kind name and an array of at most
 * MAX_PARAMS finite numbers. Returns the failure, or null.
 */
export const checkTaskShape = (data: unknown): TaskResult | null => unreadable.get(snapshotTask(data)) ?? null;

/**
 * The task at index i of a caller's task source, read once (`snapshotTask`). A source that
 * throws, or whose `task` is not a function, is the caller's defect, not a task's: it is
 * refused with BackendError('INVALID_TASK') and the thrown value as its cause.
 */
export function taskAt(source: TaskSource, i: number): Task {
  let data: unknown;
  try {
    data = source.task(i);
  } catch (err) {
    throw new BackendError('INVALID_TASK', `batch.tasks.task(${i}) threw`, { cause: err });
  }
  return snapshotTask(data);
}

/** Checks params against a kind's declaration. Returns the failure, or null. */
export function checkParams(kind: JobKind<any>, params: readonly number[]): TaskResult | null {
  const spec = kind.params;
  if (params.length !== spec.length) return failure('bad-params', `kind ${kind.name} takes ${spec.length} params, got ${params.length}`);
  for (let i = 0; i < spec.length; i++) {
    const v = params[i];
    const p = spec[i];
    if (typeof v !== 'number' || Number.isNaN(v)) return failure('bad-params', `param ${p.name} must be a number`);
    if (p.type === 'i32' && (v | 0) !== v) return failure('bad-params', `param ${p.name} must be an int32`);
    if ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) {
      return failure('bad-params', `param ${p.name} must be in [${p.min ?? '-inf'}, ${p.max ?? 'inf'}]`);
    }
  }
  return null;
}

/**
 * Checks a task against a kind table (name -> kind). Returns the failure, or null. Give it
 * the task `snapshotTask` returned when the task is used after the check.
 */
export function checkTask(data: Task, kinds: ReadonlyMap<string, JobKind<any>>): TaskResult | null {
  const task = snapshotTask(data);
  const shape = unreadable.get(task);
  if (shape !== undefined) return shape;
  const kind = kinds.get(task.kind);
  if (kind === undefined) return failure('unknown-kind', `no kind named ${task.kind} is registered`);
  return checkParams(kind, task.params);
}

/**
 * Checks a result that arrived as data: status done with at most MAX_RESULTS finite
 * numbers (exactly the kind's result count when the kind is known). Returns the
 * failure that replaces it, or null when it is sound.
 */
export function checkValues(values: unknown, kind: JobKind<any> | undefined): TaskResult | null {
  if (!Array.isArray(values) || values.length > MAX_RESULTS) return failure('bad-result', `result values must be an array of at most ${MAX_RESULTS} numbers`);
  for (const v of values) {
    if (typeof v !== 'number' || Number.isNaN(v)) return failure('bad-result', 'result values must be numbers');
  }
  if (kind !== undefined && values.length !== kind.results.length) {
    return failure('bad-result', `kind ${kind.name} returns ${kind.results.length} values, got ${values.length}`);
  }
  return null;
}

/** name -> kind for a kind list (an engine's `kinds`). */
export const kindTable = (kinds: readonly JobKind<any>[]): ReadonlyMap<string, JobKind<any>> => new Map(kinds.map((k) => [k.name, k]));

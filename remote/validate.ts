/**
 * Task validation shared by every backend and by the remote worker, so a malformed task
 * fails with the same reason and the same words wherever it runs. The parameter rules
 * are the engine's submit rules (count, number, NaN, integer i32, declared range); the
 * engine still checks again at submit.
 */
import type { JobKind } from '../engine/kind.js';
import { MAX_PARAMS, MAX_RESULTS } from '../engine/kind.js';
import type { Task, TaskResult } from './types.js';

const KIND_NAME_RE = /^[a-z][a-z0-9_.-]{0,62}$/i;

/** A failed result with a stable reason code. */
export const failure = (reason: string, message: string): TaskResult => ({ status: 'failed', values: [], reason, message });

/**
 * Checks the shape of a task that arrived as data (from a queue, from a caller): a kind
 * name and an array of at most MAX_PARAMS finite numbers. Returns the failure, or null.
 */
export function checkTaskShape(data: unknown): TaskResult | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return failure('malformed-task', 'task data must be an object');
  const t = data as { kind?: unknown; params?: unknown };
  if (typeof t.kind !== 'string' || !KIND_NAME_RE.test(t.kind)) return failure('malformed-task', 'task kind must be a kind name');
  if (!Array.isArray(t.params)) return failure('malformed-task', 'task params must be an array of numbers');
  if (t.params.length > MAX_PARAMS) return failure('malformed-task', `task params must hold at most ${MAX_PARAMS} numbers`);
  for (const v of t.params) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return failure('malformed-task', 'task params must be finite numbers');
  }
  return null;
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

/** Checks a task against a kind table (name -> kind). Returns the failure, or null. */
export function checkTask(task: Task, kinds: ReadonlyMap<string, JobKind<any>>): TaskResult | null {
  const shape = checkTaskShape(task);
  if (shape !== null) return shape;
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

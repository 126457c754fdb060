/**
 * One clock for every thread: epoch milliseconds with sub-microsecond resolution.
 * Each thread's performance.now() counts from its own timeOrigin, so the origin is
 * added back; it is read once because the timeOrigin getter is slow.
 *
 * Hot paths use stampAt, which writes the time into a Float64Array and returns
 * nothing: a double returned from a call the optimiser does not inline is boxed (one
 * heap number per call), and the per-job paths must not allocate.
 */
// Node defines globalThis.performance as an accessor: every `performance.now()` through
// the global runs its getter first, about 5 % of a worker's
// time per tiny job. The object is read once here.
const perf: Performance = globalThis.performance;
const origin = perf.timeOrigin;

export const sharedNow = (): number => origin + perf.now();

/** Writes the current time into arr[i]. Allocation-free on the hot path. */
export function stampAt(arr: Float64Array, i: number): void {
  arr[i] = origin + perf.now();
}

/** A promise that resolves after `ms`, and the means to stop its timer early. */
export function delay(ms: number): { promise: Promise<void>; clear: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

/**
 * Settles like `p`, or rejects with `onTimeout()` after `ms` (Infinity: never), and
 * leaves no timer behind either way.
 */
export async function within<T>(p: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  if (!Number.isFinite(ms)) return p;
  const d = delay(ms);
  const timedOut = d.promise.then(() => {
    throw onTimeout();
  });
  try {
    return await Promise.race([p, timedOut]);
  } finally {
    d.clear();
    timedOut.catch(() => {});
  }
}

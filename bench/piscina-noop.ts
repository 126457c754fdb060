/** piscina's side of the tiny-job comparison: the same trivial job as the engine's `noop` kind. */
export interface NoopTask {
  a: number;
  b: number;
}

export function noop(task: NoopTask): number {
  return task.a + task.b;
}

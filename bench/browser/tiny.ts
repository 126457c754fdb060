/**
 * The tiny job every peer runs: the sum of two numbers, the same work as the engine's
 * built-in `noop` kind. Job `i` is always asked `(i, 1)`, so its answer must be `i + 1`.
 */
export function tinyAdd(a: number, b: number): number {
  return a + b;
}

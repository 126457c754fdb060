/**
 * The seeded random source: mulberry32, small and fast, and the same sequence on every
 * thread for the same seed (the level, the scene and the workloads are all built from
 * it, so a seed reproduces a run).
 */

/** A generator of floats in [0, 1). The closure holds the state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    return mix(a);
  };
}

/**
 * The same sequence with its state in s[i] instead of a closure: allocation-free, and
 * the state can live in a typed array that is hashed or copied with the rest.
 */
export function mulberry32At(s: Uint32Array, i: number): number {
  const a = (s[i] + 0x6d2b79f5) >>> 0;
  s[i] = a;
  return mix(a);
}

function mix(a: number): number {
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

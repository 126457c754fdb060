/**
 * The piscina side of `--vs piscina`: the very same COMPUTE_HEAVY handler the engine's
 * built-in `compute-heavy` kind runs, behind piscina's one-function worker interface.
 * Piscina loads workers by file name, so this is used from its dist/ build.
 */
import { computeHeavyKind } from '../../engine/builtin-kinds.js';
import type { JobContext } from '../../engine/kind.js';

/** What the peer sends per task: the kind's two parameters. */
export interface HeavyTask {
  readonly seed: number;
  readonly iterations: number;
}

const params = new Float64Array(2);
const out = new Float64Array(10);
// compute-heavy reads neither state nor arena; the handler signature still wants a context.
const ctx = null as unknown as JobContext<undefined>;

export default function run(task: HeavyTask): number {
  params[0] = task.seed;
  params[1] = task.iterations;
  computeHeavyKind.run(params, out, ctx);
  return out[0];
}

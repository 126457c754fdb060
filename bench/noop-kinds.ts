/** The bench's remote kind: the engine's no-op (a + b), under its own name. */
import { defineKind } from '../engine/kind.js';

export const kinds = [
  defineKind({
    name: 'bench.noop',
    params: [
      { name: 'a', type: 'f64' },
      { name: 'b', type: 'f64' },
    ],
    results: ['sum'],
    run(p, out) {
      out[0] = p[0] + p[1];
    },
  }),
];

// A kind module: the engine imports it by URL on the main thread and in every worker.
import { defineKind } from 'framejobs';

export const kinds = [
  defineKind({
    name: 'example.distance',
    params: [
      { name: 'ax', type: 'f64' },
      { name: 'ay', type: 'f64' },
      { name: 'bx', type: 'f64' },
      { name: 'by', type: 'f64' },
    ],
    results: ['d'],
    run(p, out) {
      out.d = Math.hypot(p.bx - p.ax, p.by - p.ay);
    },
  }),
];

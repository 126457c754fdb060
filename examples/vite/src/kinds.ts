import { defineKind } from 'framejobs';

/** Distance between two points: parameters and results by name. */
export const distance = defineKind({
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
});

export const kinds = [distance] as const;

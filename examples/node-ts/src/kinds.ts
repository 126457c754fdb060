import { defineKind } from 'framejobs';
import { kinds as gridKinds } from 'framejobs/kinds/grid';

/** Distance between two points: parameters and results by name. */
export const distance = defineKind({
  name: 'example.distance',
  params: [
    { name: 'ax', type: 'f64' },
    { name: 'ay', type: 'f64' },
    { name: 'bx', type: 'f64' },
    { name: 'by', type: 'f64' },
  ],
  results: ['d', 'dx'],
  run(p, out) {
    out.dx = p.bx - p.ax;
    out.d = Math.hypot(out.dx, p.by - p.ay);
  },
});

/** Our own kind, then the package's ready-made grid kinds (`path`, `distances`): the same list on both sides. */
export const kinds = [distance, ...gridKinds] as const;

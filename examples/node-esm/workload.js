// For `npx framejobs stress --kinds kinds.js --workload workload.js`: how to make job i's
// parameters from the run's seeded random source, and how to check a result.
import { defineWorkload } from 'framejobs/stress';

export const workload = defineWorkload({
  kind: 'example.distance',
  params(i, random, out) {
    out[0] = random() * 100;
    out[1] = random() * 100;
    out[2] = random() * 100;
    out[3] = i % 100;
  },
  check(p, v) {
    return v[0] === Math.hypot(p[2] - p[0], p[3] - p[1]);
  },
  jobsPerFrame: 64,
});

import { describe, expect, it } from 'vitest';
import { GRADE_RULES, grade, gradeCriteriaMarkdown, gradeMetrics } from '../stress/report/grade.js';
import type { StressResult } from '../stress/report/result.js';
import { FRAME_MS } from '../game/time.js';

/** A clean burst run: nothing lost, all workers alive, p99 well inside 2 frames. */
function crafted(over: {
  lost?: number;
  duplicates?: number;
  alive?: number;
  configured?: number;
  p99Ms?: number;
  unexpectedFailed?: number;
  completed?: number;
  submitted?: number;
  rejected?: number;
  mode?: StressResult['mode'];
  malformed?: number;
}): StressResult {
  const completed = over.completed ?? 10_000;
  const rejected = over.rejected ?? 500;
  const failed = over.unexpectedFailed ?? 0;
  const lost = over.lost ?? 0;
  const submitted = over.submitted ?? completed + rejected + failed + lost;
  const p99 = over.p99Ms ?? 5;
  return {
    engine: 'framejobs',
    mode: over.mode ?? 'burst',
    seed: 1,
    seconds: 5,
    workers: { configured: over.configured ?? 4, alive: over.alive ?? over.configured ?? 4, respawned: 0, killed: 0 },
    jobs: {
      submitted,
      received: completed + failed,
      completed,
      failed,
      rejected,
      expired: 0,
      cancelled: 0,
      inFlight: 0,
      lost,
      duplicates: over.duplicates ?? 0,
    },
    rejectedByReason: { overloaded: rejected },
    failedByReason: failed > 0 ? { threw: failed } : {},
    unexpectedFailed: failed,
    throughputPerS: completed / 5,
    latencyMs: { count: completed, avg: p99 / 2, p50: p99 / 3, p99, max: p99 * 2 },
    histogram: { boundsMs: [Infinity], counts: [completed] },
    timing: { testS: 5, submitS: 5, collectS: 0 },
    samples: { tMs: [], throughput: [], queueDepth: [] },
    notes: [],
    ...(over.malformed !== undefined ? { faults: { kills: 0, hangs: 0, throws: 0, malformed: over.malformed, malformedRejected: over.malformed } } : {}),
  };
}

describe('stress grade', () => {
  it('gives A to a clean run inside 2 frames, and A exactly at the 2-frame boundary', () => {
    expect(grade(crafted({})).grade).toBe('A');
    expect(grade(crafted({ p99Ms: 2 * FRAME_MS })).grade).toBe('A');
  });

  it('drops to B just over 2 frames and stays B up to 4 frames', () => {
    expect(grade(crafted({ p99Ms: 2 * FRAME_MS + 0.01 })).grade).toBe('B');
    expect(grade(crafted({ p99Ms: 4 * FRAME_MS })).grade).toBe('B');
  });

  it('drops to C past 4 frames, and C holds up to 30 frames (1 s)', () => {
    expect(grade(crafted({ p99Ms: 4 * FRAME_MS + 0.01 })).grade).toBe('C');
    expect(grade(crafted({ p99Ms: 30 * FRAME_MS })).grade).toBe('C');
    expect(grade(crafted({ p99Ms: 30 * FRAME_MS + 0.01 })).grade).toBe('D');
  });

  it('does not give A or B when a worker is down at the end, C with half alive, D below half', () => {
    expect(grade(crafted({ alive: 3 })).grade).toBe('C');
    expect(grade(crafted({ alive: 2 })).grade).toBe('C');
    expect(grade(crafted({ alive: 1 })).grade).toBe('D');
  });

  it('treats unexpected failures: any keeps A and B away, over 1 % of accepted drops C to D', () => {
    // 10,000 completed + 100 failed = 10,100 accepted; 100 is 0.99 %.
    expect(grade(crafted({ unexpectedFailed: 100 })).grade).toBe('C');
    expect(grade(crafted({ unexpectedFailed: 1 })).grade).toBe('C');
    expect(grade(crafted({ unexpectedFailed: 200 })).grade).toBe('D');
  });

  it('gives F to any lost job, a negative loss, a duplicate, or a run where nothing completed', () => {
    expect(grade(crafted({ lost: 1 })).grade).toBe('F');
    expect(grade(crafted({ lost: -1, submitted: 10_499 })).grade).toBe('F');
    expect(grade(crafted({ duplicates: 1 })).grade).toBe('F');
    expect(grade(crafted({ completed: 0 })).grade).toBe('F');
  });

  it('counts rejected work as shed load, not a defect: a burst with heavy rejection can still be A', () => {
    const g = grade(crafted({ rejected: 1_000_000 }));
    expect(g.grade).toBe('A');
    expect(g.issues.some((i) => i.severity === 'info' && i.text.includes('overloaded'))).toBe(true);
  });

  it('in frame and chaos modes, refused game submits cap the grade: 1 % for A, 5 % for B', () => {
    // 9,900 completed + 100 refused = 10,000 submits: exactly 1 %.
    expect(grade(crafted({ mode: 'frame', completed: 9_900, rejected: 100 })).grade).toBe('A');
    expect(grade(crafted({ mode: 'frame', completed: 9_899, rejected: 101 })).grade).toBe('B');
    expect(grade(crafted({ mode: 'frame', completed: 9_500, rejected: 500 })).grade).toBe('B');
    expect(grade(crafted({ mode: 'frame', completed: 9_499, rejected: 501 })).grade).toBe('C');
    // Malformed submits chaos makes on purpose, refused as they should be, do not count.
    expect(grade(crafted({ mode: 'chaos', completed: 9_000, rejected: 1_000, malformed: 1_000 })).grade).toBe('A');
  });

  it('workers: 0 (inline) counts as all workers alive', () => {
    expect(gradeMetrics(crafted({ configured: 0, alive: 0 })).workersAlivePct).toBe(100);
    expect(grade(crafted({ configured: 0, alive: 0 })).grade).toBe('A');
  });

  it('lists what the next grade needs', () => {
    const g = grade(crafted({ p99Ms: 3 * FRAME_MS }));
    expect(g.grade).toBe('B');
    expect(g.missed.map((c) => c.metric)).toEqual(['p99Frames']);
    expect(grade(crafted({})).missed).toEqual([]);
  });

  it('renders the criteria table for the README from the same data', () => {
    const md = gradeCriteriaMarkdown();
    for (const rule of GRADE_RULES) expect(md).toContain(`| ${rule.grade} | ${rule.status} |`);
    expect(md).toContain('| F | BROKEN |');
    expect(md).toContain('66.7 ms');
  });
});

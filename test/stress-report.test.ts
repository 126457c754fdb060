import { describe, expect, it } from 'vitest';
import { grade } from '../stress/report/grade.js';
import { histogramSvg, renderHtml } from '../stress/report/html.js';
import { LatencyRecorder, percentile } from '../stress/report/latency.js';
import { COLOR, PLAIN, Progress, paletteFor, renderReport } from '../stress/report/text.js';
import type { StressResult } from '../stress/report/result.js';

function result(engine = 'framejobs', throughput = 100_000, p99 = 3): StressResult {
  const rec = new LatencyRecorder(4);
  for (let i = 1; i <= 100; i++) rec.add(i * (p99 / 99));
  return {
    engine,
    mode: 'burst',
    seed: 7,
    seconds: 5,
    workers: { configured: 4, alive: 4, respawned: 0, killed: 0 },
    jobs: { submitted: 1200, received: 1000, completed: 1000, failed: 0, rejected: 200, expired: 0, cancelled: 0, inFlight: 0, lost: 0, duplicates: 0 },
    rejectedByReason: { overloaded: 150, 'ring-full': 50 },
    failedByReason: {},
    unexpectedFailed: 0,
    throughputPerS: throughput,
    latencyMs: rec.summary(),
    histogram: rec.histogram(),
    timing: { testS: 5.1, submitS: 5, collectS: 0.1 },
    samples: { tMs: [100, 200, 300], throughput: [90_000, 100_000, 110_000], queueDepth: [10, 20, 5] },
    notes: [],
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;

describe('latency recorder', () => {
  it('computes nearest-rank percentiles and grows past its initial capacity', () => {
    const rec = new LatencyRecorder(4);
    for (let i = 100; i >= 1; i--) rec.add(i);
    const s = rec.summary();
    expect(s).toEqual({ count: 100, avg: 50.5, p50: 50, p99: 99, max: 100 });
    expect(percentile([], 0.5)).toBe(0);
    const h = rec.histogram();
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(h.boundsMs[h.boundsMs.length - 1]).toBe(Infinity);
  });
});

describe('terminal report', () => {
  it('prints every outcome, rejection reasons, latency in ms and frames, grade and verdict', () => {
    const r = result();
    const text = renderReport(r, grade(r), PLAIN);
    expect(text).not.toMatch(ANSI);
    for (const word of ['GRADE: A', 'Alive:', '4/4', 'Submitted', 'Received', 'Completed', 'Failed', 'Rejected', 'Expired', 'Cancelled', 'Lost', 'Throughput', 'frames', 'p99', 'TIMING', 'ISSUES', 'VERDICT']) {
      expect(text).toContain(word);
    }
    expect(text).toContain('overloaded 150, ring-full 50');
  });

  it('puts peers side by side with ratios', () => {
    const r = result();
    const text = renderReport(r, grade(r), PLAIN, [result('piscina', 10_000, 10)]);
    expect(text).toContain('SIDE BY SIDE');
    expect(text).toContain('piscina');
    expect(text).toContain('10x more');
    expect(text).toContain('3.3x lower');
    // Worse than the peer reads as worse, not as a ratio below 1.
    const worse = renderReport(r, grade(r), PLAIN, [result('piscina', 200_000, 1)]);
    expect(worse).toContain('2.0x less');
    expect(worse).toContain('3.0x higher');
  });

  it('breaks latency down by kind when the run had several', () => {
    const k = (kind: string, p99: number) => ({ kind, completed: 10, failed: 1, expired: 2, latencyMs: { count: 10, avg: 1, p50: 1, p99, max: p99 } });
    const r = { ...result(), mode: 'frame' as const, byKind: [k('path', 5), k('physics.predict', 120)] };
    const text = renderReport(r, grade(r), PLAIN);
    expect(text).toContain('BY KIND');
    expect(text).toMatch(/path\s+10\s+1\s+2\s+1\.00\s+5\.00/);
    expect(text).toContain('physics.predict');
  });

  it('colours only a TTY without NO_COLOR', () => {
    expect(paletteFor({ isTTY: true }, {})).toBe(COLOR);
    expect(paletteFor({ isTTY: true }, { NO_COLOR: '1' })).toBe(PLAIN);
    expect(paletteFor({ isTTY: false }, {})).toBe(PLAIN);
    expect(paletteFor({}, {})).toBe(PLAIN);
    const r = result();
    expect(renderReport(r, grade(r), COLOR)).toMatch(ANSI);
  });

  it('draws the progress bar only on a TTY', () => {
    const written: string[] = [];
    const pipe = { isTTY: false, write: (s: string) => written.push(s) };
    const bar = new Progress(pipe, 'burst', {});
    bar.update(0.5, 1000, () => 'x');
    bar.done();
    expect(written).toEqual([]);
    const tty = { isTTY: true, columns: 80, write: (s: string) => written.push(s) };
    const bar2 = new Progress(tty, 'burst', {});
    bar2.update(0.5, 1000, () => 'detail');
    bar2.update(0.6, 1010, () => 'throttled');
    bar2.done();
    expect(written.length).toBe(2);
    expect(written[0]).toContain('50%');
    expect(written[0]).toContain('detail');
  });
});

describe('html report', () => {
  it('is one self-contained page with three inline SVG charts and no external assets', () => {
    const r = result();
    const html = renderHtml(r, grade(r));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)?.length).toBe(3);
    expect(html).toContain('Latency histogram');
    expect(html).toContain('Throughput over time');
    expect(html).toContain('Queue depth over time');
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    expect(html).not.toMatch(ANSI);
    const withPeer = renderHtml(r, grade(r), [result('piscina')]);
    expect(withPeer.match(/<svg /g)?.length).toBe(4);
    expect(withPeer).toContain('Latency histogram: piscina, same workload, same run');
  });

  it('escapes text and copes with an empty histogram', () => {
    const svg = histogramSvg({ boundsMs: [1, Infinity], counts: [0, 0] });
    expect(svg).toContain('<svg');
    const r = { ...result(), engine: '<b>x</b>' };
    expect(renderHtml(r, grade(r))).not.toContain('<b>x</b>');
  });
});

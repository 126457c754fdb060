/**
 * The browser bench (`npm run bench:browser`) in Debian's Chromium, in its quick form:
 * the page really runs the engine, comlink, workerpool and bare postMessage side by side,
 * and every job of every peer comes back exactly once with the right value. Figures are
 * only checked to be there (positive numbers): timing belongs to the bench, not here.
 */
import { describe, expect, it } from 'vitest';
import { EngineError } from '../engine/errors.js';
import { configFor, parseRunArgs, runInChromium, toJson } from '../bench/browser/run.js';
import { PEERS, QUICK, WARM_FRAMES, configQuery, parseConfigQuery } from '../bench/browser/protocol.js';

const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('browser bench in Chromium (quick)', () => {
  it('runs every peer in one page; every job comes back exactly once with the right value', async () => {
    const report = await runInChromium(configFor({ quick: true, workers: 2 }));
    expect(report.crossOriginIsolated).toBe(true);
    expect(report.workers).toBe(2);
    for (const name of PEERS) {
      const v = report.peers[name].verification;
      expect(v, name).toEqual({ submitted: v.submitted, ok: v.submitted, missing: 0, duplicates: 0, wrong: 0 });
      // Warm-up, one throughput pass and both round-trip series all went through the books.
      expect(v.submitted, name).toBeGreaterThan(QUICK.roundTrips + QUICK.sleepyRoundTrips);
      expect(report.peers[name].passes, name).toHaveLength(QUICK.passes);
    }
    // The engine's bundled passes: every job of every bundle once, with its value.
    const bv = report.engineBundled.verification;
    expect(bv).toEqual({ submitted: bv.submitted, ok: bv.submitted, missing: 0, duplicates: 0, wrong: 0 });
    expect(bv.submitted).toBeGreaterThan(0);
    expect(report.engineBundled.passes).toHaveLength(QUICK.passes);
    const fv = report.frameVerification;
    expect(fv).toEqual({ submitted: fv.submitted, ok: fv.submitted, missing: 0, duplicates: 0, wrong: 0 });
    // Both engines' frames (frame pacing off and on), each with its warm-up, in rounds.
    expect(fv.submitted + report.frameBudgetMs.refused + report.frameBudgetPacedMs.refused).toBe(2 * (QUICK.frames + WARM_FRAMES) * QUICK.jobsPerFrame);
    for (const fb of [report.frameBudgetMs, report.frameBudgetPacedMs]) {
      expect(fb.frames).toBe(QUICK.frames);
      expect(fb.roundP99).toHaveLength(QUICK.frameRounds);
    }

    const json = toJson(report, true) as Record<string, Record<string, unknown>>;
    // The run's one JSON line survives a round trip through text, as the CLI prints it.
    const line = JSON.parse(JSON.stringify(json)) as typeof json;
    for (const name of PEERS) {
      expect(positive(line.tiny_jobs_per_s[name]), `tiny_jobs_per_s.${name}`).toBe(true);
      for (const series of ['round_trip_us', 'round_trip_after_idle_us']) {
        const p = line[series][name] as Record<string, unknown>;
        expect(positive(p.p50) && positive(p.p99), `${series}.${name}: ${JSON.stringify(p)}`).toBe(true);
        expect(p.p99 as number).toBeGreaterThanOrEqual(p.p50 as number);
      }
    }
    expect(positive(line.tiny_jobs_bundled_per_s.engine), 'tiny_jobs_bundled_per_s.engine').toBe(true);
    for (const series of ['frame_budget_ms', 'frame_budget_paced_ms']) {
      expect(positive(line[series].p50) && positive(line[series].p99), JSON.stringify(line[series])).toBe(true);
    }
    for (const r of ['engine_vs_comlink', 'engine_vs_workerpool', 'engine_vs_postmessage', 'round_trip_p99_engine_vs_comlink', 'frame_budget_p99_paced_vs_default']) {
      expect(positive(line.ratios[r]), `ratios.${r}`).toBe(true);
    }
    expect(line.workers).toBe(2);
    expect(positive(line.hardware_concurrency)).toBe(true);
    expect(line.jobs_lost_or_wrong).toBe(0);
  });
});

describe('browser bench options', () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof EngineError ? e.code : `not an EngineError: ${String(e)}`;
    }
    return undefined;
  };

  it('takes --workers, --seconds, --quick and --json', () => {
    expect(parseRunArgs(['--workers', '3', '--seconds=1.5', '--quick', '--json'])).toEqual({ workers: 3, seconds: 1.5, quick: true, json: true, help: false });
    expect(configFor(parseRunArgs([])).workers).toBeUndefined();
    expect(configFor(parseRunArgs(['--quick', '--workers', '2']))).toEqual({ ...QUICK, workers: 2 });
  });

  it('refuses a bad option with INVALID_OPTION', () => {
    for (const argv of [['--workers', '0'], ['--workers', '1.5'], ['--workers', '65'], ['--seconds', '0'], ['--seconds', 'x'], ['--frames', '3'], ['extra'], ['--quick=1']]) {
      expect(code(() => parseRunArgs(argv)), argv.join(' ')).toBe('INVALID_OPTION');
    }
  });

  it('carries its settings to the page intact, and ignores malformed ones there', () => {
    const c = { ...QUICK, workers: 3 };
    expect(parseConfigQuery(configQuery(c), QUICK)).toEqual(c);
    expect(parseConfigQuery('workers=0&seconds=-1&window=1.5&passes=abc', QUICK)).toEqual(QUICK);
  });
});

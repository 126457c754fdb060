/**
 * The soak harness itself: its options, and a few seconds of it on two workers with
 * kills, so the long run (`npm run soak`) cannot rot. Only behaviour is asserted here
 * (nothing lost or duplicated, memory readings taken); its timing figures are for the
 * long run to report.
 */
import { describe, expect, it } from 'vitest';
import { parseSoakArgs, runSoak } from '../tools/soak.js';

describe('soak options', () => {
  it('defaults to 10 minutes on 4 workers with a kill every 10 s, and takes fractions of a minute', () => {
    expect(parseSoakArgs([])).toEqual({ minutes: 10, json: false, workers: 4, seed: 1, killEveryS: 10, agents: 500 });
    expect(parseSoakArgs(['--minutes', '0.5', '--json', '--kill-every', '0'])).toMatchObject({ minutes: 0.5, json: true, killEveryS: 0 });
  });

  for (const argv of [['--minutes'], ['--minutes', '0'], ['--minutes', 'ten'], ['--workers', '0'], ['--workers', '1.5'], ['--kill-every', '-1'], ['--agents', '0'], ['--frames', '3']]) {
    it(`refuses ${argv.join(' ')} with INVALID_OPTION`, () => {
      expect(() => parseSoakArgs(argv)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    });
  }
});

describe('a short soak', () => {
  it('accounts for every job through worker kills and reads every worker’s wasm memory', async () => {
    const r = await runSoak({ minutes: 0.1, json: true, workers: 2, seed: 5, killEveryS: 1, agents: 100 });
    expect(r.frames).toBe(180);
    expect(r.kills).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.jobs.duplicates).toBe(0);
    expect(r.jobs.vanished).toBe(0);
    expect(r.jobs.unexpected_failed).toBe(0);
    expect(r.jobs.in_flight).toBe(0);
    expect(r.jobs.submitted).toBe(r.jobs.completed + r.jobs.failed + r.jobs.expired + r.jobs.cancelled + r.jobs.rejected);
    expect(r.notes).toEqual([]);
    expect(r.shared_bytes.end).toBe(r.shared_bytes.start);
    for (const w of r.wasm.per_worker) expect(w.start).toBeGreaterThan(0);
    // Worker 0 is spared, so its reading spans the whole run.
    expect(r.wasm.per_worker[0].killed).toBe(false);
    expect(r.wasm.per_worker[0].end).toBe(r.wasm.per_worker[0].start);
  }, 60_000);
});

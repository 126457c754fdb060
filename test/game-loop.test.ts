import { describe, expect, test } from 'vitest';
import { FixedLoop } from '../frame/loop.js';
import { parseGameArgs } from '../game/cli.js';
import { runGame } from '../game/run.js';

describe('fixed-step loop (stepped by hand, no wall clock)', () => {
  test('runs one step per 1/30 s of elapsed time and keeps the remainder as alpha', () => {
    const frames: number[] = [];
    const loop = new FixedLoop((f) => frames.push(f));
    expect(loop.advance(10)).toBe(0);
    expect(loop.alpha).toBeCloseTo(10 / (1000 / 30), 9);
    expect(loop.advance(25)).toBe(1); // 35 ms: one step, 1.67 ms left
    expect(loop.alpha).toBeCloseTo((35 - 1000 / 30) / (1000 / 30), 9);
    expect(loop.advance(1000 / 30)).toBe(1);
    expect(frames).toEqual([0, 1]);
  });

  test('at most three catch-up steps per tick; the rest is dropped, not owed', () => {
    let n = 0;
    const loop = new FixedLoop(() => n++);
    expect(loop.advance(200)).toBe(3); // 6 steps' worth
    expect(loop.cappedTicks).toBe(1);
    expect(loop.droppedMs).toBeCloseTo(100, 6);
    expect(loop.alpha).toBeLessThan(1);
    // The next normal tick is normal again: no spiral.
    expect(loop.advance(1000 / 30)).toBe(1);
    expect(n).toBe(4);
  });

  test('a long pause is clamped before it reaches the accumulator', () => {
    let n = 0;
    const loop = new FixedLoop(() => n++, { maxElapsedMs: 100 });
    expect(loop.advance(60_000)).toBe(3);
    expect(loop.droppedMs).toBeGreaterThanOrEqual(59_900);
    expect(loop.advance(0)).toBe(0);
  });

  test('steps get consecutive frame numbers across ticks and manual steps', () => {
    const frames: number[] = [];
    const loop = new FixedLoop((f) => frames.push(f), { hz: 60 });
    loop.advance(1000 / 60 * 2);
    loop.stepOnce();
    loop.advance(1000 / 60);
    expect(frames).toEqual([0, 1, 2, 3]);
    expect(loop.frame).toBe(4);
  });

  test('run() drives itself from a clock until the frame count', async () => {
    let t = 0;
    const frames: number[] = [];
    // A fake clock that jumps 20 ms per read keeps this independent of real timing.
    const loop = new FixedLoop((f) => frames.push(f), { hz: 1000 }, () => (t += 20));
    await loop.run(12);
    expect(frames.length).toBe(12);
    expect(frames[11]).toBe(11);
  });

  test('bad options are INVALID_OPTION', () => {
    expect(() => new FixedLoop(() => {}, { hz: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FixedLoop(() => {}, { maxCatchUp: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FixedLoop(() => {}, { maxElapsedMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('npm run game arguments', () => {
  test('parses the documented options', () => {
    const a = parseGameArgs(['--frames', '3000', '--agents', '500', '--workers', '4', '--policy', 'bestEffort', '--seed', '9', '--json', '--fast', '--kill-at', '10,20', '--trace', 'g.json', '--warm-up', '0']);
    expect(a).toMatchObject({ frames: 3000, agents: 500, workers: 4, policy: 'bestEffort', seed: 9, json: true, fast: true, killAtFrames: [10, 20], trace: 'g.json', warmUpFrames: 0 });
  });
  test('runGame refuses a bad warm-up length with INVALID_OPTION before starting anything', async () => {
    for (const warmUpFrames of [-1, 1.5, Number.NaN]) {
      await expect(runGame({ frames: 1, warmUpFrames }), String(warmUpFrames)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
  });
  test('refuses bad values and unknown flags with INVALID_OPTION', () => {
    for (const argv of [['--frames', '0'], ['--workers', '-1'], ['--policy', 'sometimes'], ['--agents'], ['--teleport'], ['--trace'], ['--trace='], ['--warm-up', '-1'], ['--warm-up', '1.5']]) {
      expect(() => parseGameArgs(argv), argv.join(' ')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
  });
});

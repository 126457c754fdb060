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
    // BigInts compare with numbers, so they passed the range checks and threw later, untyped.
    expect(() => new FixedLoop(() => {}, { hz: 30n as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FixedLoop(() => {}, { maxElapsedMs: 100n as never })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FixedLoop(5 as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => new FixedLoop(() => {}, null as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  test('bad arguments to advance and run are INVALID_ARGUMENT, and nothing steps', async () => {
    let n = 0;
    const loop = new FixedLoop(() => n++);
    for (const bad of [10n, Symbol('s'), '40', null]) expect(() => loop.advance(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // NaN frames used to make run() tick for ever: never stepping, never done.
    for (const bad of [Number.NaN, -1, 1.5, 5n]) expect(() => loop.run(bad as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(n).toBe(0);
    expect(loop.frame).toBe(0);
  });

  test('a step that calls advance, stepOnce or run gets REENTRANT_CALL; the loop goes on', () => {
    const codes: (string | undefined)[] = [];
    const frames: number[] = [];
    const loop: FixedLoop = new FixedLoop((f) => {
      frames.push(f);
      for (const call of [() => loop.advance(100), () => loop.stepOnce(), () => void loop.run(1)]) {
        try {
          call();
          codes.push(undefined);
        } catch (err) {
          codes.push((err as { code?: string }).code);
        }
      }
    });
    expect(loop.advance(1000 / 30)).toBe(1);
    expect(codes).toEqual(['REENTRANT_CALL', 'REENTRANT_CALL', 'REENTRANT_CALL']);
    expect(frames).toEqual([0]);
    loop.stepOnce();
    expect(frames).toEqual([0, 1]);
  });

  test('stop() from inside a step ends run(): no step after it', async () => {
    let t = 0;
    const frames: number[] = [];
    const loop: FixedLoop = new FixedLoop(
      (f) => {
        frames.push(f);
        if (f === 4) loop.stop();
      },
      { hz: 1000 },
      () => (t += 5),
    );
    await loop.run(100);
    const after = frames.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(frames.length).toBe(after);
    expect(frames[frames.length - 1]).toBeLessThanOrEqual(6);
  });

  test('a step that throws: advance throws it with the frame counted; run() rejects with it and stops', async () => {
    const boom = new Error('step 2');
    const frames: number[] = [];
    const step = (f: number): void => {
      frames.push(f);
      if (f === 2) throw boom;
    };
    const byHand = new FixedLoop(step);
    expect(() => byHand.advance(100)).toThrow(boom);
    expect(frames).toEqual([0, 1, 2]);
    expect(byHand.frame).toBe(3);
    expect(byHand.advance(1000 / 30)).toBe(1);
    expect(frames).toEqual([0, 1, 2, 3]);
    frames.length = 0;
    let t = 0;
    const timed = new FixedLoop(step, { hz: 1000 }, () => (t += 20));
    await expect(timed.run(10)).rejects.toBe(boom);
    expect(frames).toEqual([0, 1, 2]);
    // The frame that threw is behind it: the next run goes on from frame 3.
    expect(timed.frame).toBe(3);
    frames.length = 0;
    await timed.run(2);
    expect(frames).toEqual([3, 4]);
  });

  test("a clock that throws or returns no time: run() rejects (INVALID_OPTION for a reading that is not a time) and stops", async () => {
    const frames: number[] = [];
    const step = (f: number): void => {
      frames.push(f);
    };
    // A reading that is not a time at the start refuses run() itself.
    expect(() => new FixedLoop(step, { hz: 1000 }, () => Number.NaN).run(3)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    for (const bad of [Number.NaN, 5n, 'soon', undefined]) {
      let t = 0;
      let reads = 0;
      // Good for the start and the first tick's two readings (its three catch-up steps), then bad.
      const loop = new FixedLoop(step, { hz: 1000 }, () => (++reads > 3 ? (bad as number) : (t += 20)));
      await expect(loop.run(100)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
      expect(loop.frame).toBe(3);
    }
    const boom = new Error('clock');
    let reads = 0;
    const throwing = new FixedLoop(step, { hz: 1000 }, () => {
      if (++reads > 1) throw boom;
      return 0;
    });
    await expect(throwing.run(5)).rejects.toBe(boom);
    expect(throwing.frame).toBe(0);
  });
});

describe('npm run game arguments', () => {
  test('parses the documented options', () => {
    const a = parseGameArgs(['--frames', '3000', '--agents', '500', '--workers', '4', '--policy', 'bestEffort', '--seed', '9', '--json', '--fast', '--kill-at', '10,20', '--trace', 'g.json', '--warm-up', '0']);
    expect(a).toMatchObject({ frames: 3000, agents: 500, workers: 4, policy: 'bestEffort', seed: 9, json: true, fast: true, killAtFrames: [10, 20], trace: 'g.json', warmUpFrames: 0 });
    expect(a.framePacing).toBeUndefined();
    expect(parseGameArgs(['--no-pacing']).framePacing).toBe(false);
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

/**
 * The bench's checked ring (bench/checked-ring.ts) is a reference line for the engine's
 * per-job overhead, so it must really do the checks and keep the books it claims to:
 * each bad input is refused with its code and counted, and a run through a real worker
 * moves every job exactly once with the right sum (the run throws otherwise).
 */
import { describe, expect, test } from 'vitest';
import { CHECKED_REFUSAL, CheckedRing, CheckedServer, checkedLayout, checkedRingThroughput } from '../bench/checked-ring.js';

const ringOf = (capacity: number): CheckedRing => new CheckedRing(new SharedArrayBuffer(checkedLayout(capacity).bytes), capacity);

describe('checked ring', () => {
  test('refuses each bad input with its code, reads each input once, and counts every submit', () => {
    const r = ringOf(4);
    let reads = 0;
    const counted = new Proxy([1, 2], {
      get: (target, key) => {
        if (key === '0') reads++;
        return Reflect.get(target, key) as unknown;
      },
    });
    const throwing = new Proxy([1, 2], {
      get: (target, key) => {
        if (key === '1') throw new Error('getter');
        return Reflect.get(target, key) as unknown;
      },
    });
    expect(r.submit(1, [1, 2], 0)).toBe(CHECKED_REFUSAL.BAD_KIND);
    expect(r.submit('0' as unknown as number, [1, 2], 0)).toBe(CHECKED_REFUSAL.BAD_KIND);
    expect(r.submit(0, [1], 0)).toBe(CHECKED_REFUSAL.BAD_PARAMS);
    expect(r.submit(0, [1, Number.NaN], 0)).toBe(CHECKED_REFUSAL.BAD_PARAMS);
    expect(r.submit(0, [1, 2n as unknown as number], 0)).toBe(CHECKED_REFUSAL.BAD_PARAMS);
    expect(r.submit(0, throwing, 0)).toBe(CHECKED_REFUSAL.BAD_PARAMS);
    expect(r.submit(0, null as unknown as number[], 0)).toBe(CHECKED_REFUSAL.BAD_PARAMS);
    expect(r.submit(0, [1, 2], 1.5)).toBe(CHECKED_REFUSAL.BAD_PARAMS);
    const ids = new Set<number>();
    for (let i = 0; i < 3; i++) ids.add(r.submit(0, [i, 1], i));
    ids.add(r.submit(0, counted, 3));
    expect(reads).toBe(1);
    expect([...ids].every((id) => id >= 0)).toBe(true);
    expect(ids.size).toBe(4);
    expect(r.submit(0, [1, 2], 0)).toBe(CHECKED_REFUSAL.FULL);
    expect({ submitted: r.submitted, rejected: r.rejected, inFlight: r.inFlight }).toEqual({ submitted: 13, rejected: 9, inFlight: 4 });
  });

  test('a callback that throws: its result is delivered once, its slot is freed, the books add up', () => {
    const sab = new SharedArrayBuffer(checkedLayout(2).bytes);
    const r = new CheckedRing(sab, 2);
    const worker = new CheckedServer(sab, 2);
    const a = r.submit(0, [1, 2], 7);
    const b = r.submit(0, [3, 4], 8);
    expect(r.submit(0, [0, 0], 0)).toBe(CHECKED_REFUSAL.FULL);
    expect(r.poll(() => {})).toBe(0);
    expect(worker.serve()).toBe(2);
    const seen: Array<[number, number, number]> = [];
    expect(() =>
      r.poll((v) => {
        seen.push([v.jobId, v.tag, v.value]);
        throw new Error('callback');
      }),
    ).toThrow('callback');
    const c = r.submit(0, [5, 6], 9);
    expect(c).toBeGreaterThanOrEqual(0);
    expect(r.poll((v) => seen.push([v.jobId, v.tag, v.value]))).toBe(1);
    expect(worker.serve()).toBe(1);
    expect(r.poll((v) => seen.push([v.jobId, v.tag, v.value]))).toBe(1);
    expect(seen).toEqual([
      [a, 7, 3],
      [b, 8, 7],
      [c, 9, 11],
    ]);
    expect(new Set([a, b, c]).size).toBe(3);
    expect({ submitted: r.submitted, rejected: r.rejected, completed: r.completed, inFlight: r.inFlight, stale: r.stale }).toEqual({
      submitted: 4,
      rejected: 1,
      completed: 3,
      inFlight: 0,
      stale: 0,
    });
  });

  test('moves every job through a real worker exactly once, with the right sums and books', async () => {
    const { jobs } = await checkedRingThroughput(0.05, 1024);
    expect(jobs).toBeGreaterThan(0);
  });
});

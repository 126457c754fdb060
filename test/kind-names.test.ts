/**
 * Parameter and result names reach the types. The `@ts-expect-error` lines are the
 * type-level test: `tsc --noEmit -p .` (part of npm test) fails if any of them stops
 * being an error, that is if a wrong name would compile. The runtime half checks the
 * named views read and write the same memory as the positional form.
 */
import { describe, expect, it } from 'vitest';
import type { EngineError } from '../engine/errors.js';
import { defineKind, type JobContext } from '../engine/kind.js';

const segment = defineKind({
  name: 'test.segment',
  params: [
    { name: 'ax', type: 'f64' },
    { name: 'ay', type: 'f64' },
    { name: 'bx', type: 'f64' },
    { name: 'by', type: 'f64' },
  ],
  results: ['len', 'slope'],
  run(p, out) {
    out.len = Math.hypot(p.bx - p.ax, p.by - p.ay);
    out.slope = (p.by - p.ay) / (p.bx - p.ax);
    // Positional access works on the same arrays.
    out[1] = out[1]! + 0 * p[0]!;
    // @ts-expect-error: `az` is not a parameter of this kind
    void p.az;
    // @ts-expect-error: `area` is not a result of this kind
    out.area = 1;
    // @ts-expect-error: parameters are read-only in the handler
    p.ax = 0;
  },
});

function typeLevel(): void {
  const p = segment.createParams();
  p.ax = 1;
  p.by = 2;
  // @ts-expect-error: `cx` is not a parameter of this kind
  p.cx = 3;
  const r = segment.readResults(new Float64Array(10));
  const n: number = r.len + r.slope;
  // @ts-expect-error: `angle` is not a result of this kind
  void r.angle;
  // @ts-expect-error: results read back are read-only
  r.len = n;
  // A kind whose names are not literal types still takes positional access only.
  const names: string[] = ['a'];
  const loose = defineKind({ name: 'test.loose', params: names.map((name) => ({ name, type: 'f64' as const })), results: [], run(q) {
    void q[0];
  } });
  void loose;
}
void typeLevel;

const ctx = {} as JobContext<undefined>;

describe('named parameters and results', () => {
  it('the handler reads and writes by name the same memory the engine reads by index', () => {
    const params = Float64Array.of(0, 0, 3, 4);
    const out = new Float64Array(10);
    segment.run(params, out, ctx);
    expect(out[0]).toBe(5);
    expect(out[1]).toBeCloseTo(4 / 3);
  });

  it('createParams fills by name; readResults reads a result array by name, one view per array', () => {
    const p = segment.createParams();
    p.ax = 1;
    p.ay = 2;
    p.bx = 4;
    p.by = 6;
    expect(Array.from(p)).toEqual([1, 2, 4, 6]);
    const values = new Float64Array(10);
    segment.run(p, values, ctx);
    const r = segment.readResults(values);
    expect(r.len).toBe(5);
    expect(segment.readResults(values)).toBe(r);
    values[0] = 7;
    expect(r.len).toBe(7);
  });

  it.each([
    ['a name that is not an identifier', [{ name: 'a-b', type: 'f64' }], []],
    ['a Float64Array member as a name', [{ name: 'length', type: 'f64' }], []],
    ['a duplicated parameter name', [{ name: 'x', type: 'f64' }, { name: 'x', type: 'i32' }], []],
    ['a duplicated result name', [], ['r', 'r']],
    ['a result named like a method', [], ['set']],
    ['a numeric result name', [], ['0']],
  ] as const)('%s is refused with INVALID_KIND', (_what, params, results) => {
    let code = 'no error';
    try {
      defineKind({ name: 'test.bad-names', params, results, run() {} });
    } catch (e) {
      code = (e as EngineError).code;
    }
    expect(code).toBe('INVALID_KIND');
  });
});

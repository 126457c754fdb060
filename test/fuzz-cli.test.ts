/** `npm run fuzz` options: defaults, and each bad input refused with INVALID_OPTION. */
import { describe, expect, it } from 'vitest';
import { parseFuzzArgs } from '../tools/fuzz.js';

describe('fuzz CLI options', () => {
  it('defaults to 1000 sequences of up to 16 commands with a fresh seed', () => {
    expect(parseFuzzArgs([])).toMatchObject({ runs: 1000, maxCommands: 16 });
    expect(Number.isInteger(parseFuzzArgs([]).seed)).toBe(true);
  });

  it('takes --runs, --seed and --max-commands', () => {
    expect(parseFuzzArgs(['--runs', '2000', '--seed', '-7', '--max-commands', '30'])).toEqual({ runs: 2000, seed: -7, maxCommands: 30 });
  });

  for (const argv of [['--runs'], ['--runs', '0'], ['--runs', '1.5'], ['--seed', 'x'], ['--max-commands', '0'], ['--minutes', '3']]) {
    it(`refuses ${argv.join(' ')} with INVALID_OPTION`, () => {
      expect(() => parseFuzzArgs(argv)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    });
  }
});

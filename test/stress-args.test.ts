import { describe, expect, it } from 'vitest';
import { EngineError } from '../engine/errors.js';
import { DEFAULTS, parseArgs } from '../stress/cli/args.js';

function codeOf(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return (e as EngineError).code;
  }
  return 'no error';
}

describe('stress options', () => {
  it('defaults to a 5 s burst on 4 workers', () => {
    expect(parseArgs([])).toEqual(DEFAULTS);
    expect(DEFAULTS.mode).toBe('burst');
    expect(DEFAULTS.seconds).toBe(5);
    expect(DEFAULTS.workers).toBe(4);
  });

  it('parses every option in both --opt value and --opt=value forms', () => {
    const o = parseArgs(['--mode', 'burst', '--seconds=1.5', '--workers', '0', '--seed=42', '--json', '--vs', 'piscina', '--html', 'out.html', '--trace=t.json']);
    expect(o).toEqual({ mode: 'burst', seconds: 1.5, workers: 0, seed: 42, json: true, vs: ['piscina'], html: 'out.html', trace: 't.json', help: false });
  });

  it.each([
    [['--mode', 'storm']],
    [['--mode']],
    [['--seconds', '0']],
    [['--seconds', '-1']],
    [['--seconds', 'abc']],
    [['--seconds', '']],
    [['--seconds', '--json']],
    [['--workers', '2.5']],
    [['--workers', '-1']],
    [['--workers', '65']],
    [['--seed', '1.5']],
    [['--seed', '-3']],
    [['--vs', 'tinypool']],
    [['--mode', 'chaos', '--vs', 'piscina']],
    [['--vs']],
    [['--html']],
    [['--html', '--json']],
    [['--trace']],
    [['--trace=']],
    [['--json=yes']],
    [['--frobnicate']],
    [['burst']],
  ])('rejects %j with INVALID_OPTION', (argv) => {
    expect(codeOf(argv)).toBe('INVALID_OPTION');
  });

  it('accepts every mode without --vs', () => {
    for (const mode of ['burst', 'frame', 'chaos']) expect(parseArgs(['--mode', mode]).mode).toBe(mode);
  });

  it('names the option in the message', () => {
    expect(() => parseArgs(['--workers', 'x'])).toThrow(/--workers must be an integer/);
  });
});

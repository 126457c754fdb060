/**
 * What every command-line program of the repository (`npm run game`, `stress`, `soak`,
 * `fuzz`, `panel`) does the same way: options parsed by `node:util` parseArgs (strict,
 * no positional arguments), every bad option an EngineError('INVALID_OPTION') whose
 * message names the option and what it takes, `--help` (`-h`) printing the usage on
 * stdout with exit code 0, and a bad option printing the message and the usage on
 * stderr with exit code 2.
 *
 * Node only.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pathToFileURL } from 'node:url';
import { EngineError } from '../engine/errors.js';

export type CliOptions = NonNullable<ParseArgsConfig['options']>;
export type CliValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/**
 * A program's options: those that take a value (`--name V`, `--name=V`), flags
 * (`--name`), values that may be given more than once, and `--help` (`-h`).
 */
export function cliOptions(values: readonly string[], flags: readonly string[] = [], repeatable: readonly string[] = []): CliOptions {
  const out: CliOptions = { help: { type: 'boolean', short: 'h' } };
  for (const name of values) out[name] = { type: 'string' };
  for (const name of flags) out[name] = { type: 'boolean' };
  for (const name of repeatable) out[name] = { type: 'string', multiple: true };
  return out;
}

function bad(message: string): never {
  throw new EngineError('INVALID_OPTION', message);
}

/**
 * Parses `argv` (without node and the script) against `options`; `--opt value` and
 * `--opt=value` both work. A negative number after an option that takes a value is
 * that value (`--seed -7`), which parseArgs alone would refuse as ambiguous.
 */
export function parseCli(argv: readonly string[], options: CliOptions): CliValues {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string' && next !== undefined && /^-\.?\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
    const name = quoted.split(' ')[0];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') bad(`unknown option ${JSON.stringify(name)}; see --help`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') bad(`unexpected argument ${JSON.stringify(name)}: options start with --; see --help`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      bad(message.includes('does not take an argument') ? `${name} takes no value` : `${name} needs a value`);
    }
    throw e;
  }
}

/** What a numeric option accepts: the check, and how messages and usage state it. */
export interface NumberRule {
  readonly what: string;
  readonly ok: (n: number) => boolean;
}

/** An integer in [min, max] (no upper bound when max is omitted). */
export function integerIn(min: number, max?: number): NumberRule {
  return {
    what: max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`,
    ok: (n) => Number.isInteger(n) && n >= min && (max === undefined || n <= max),
  };
}

/** A number, fractions allowed, at least `min` (or above it, with `exclusive`) and at most `max`. */
export function numberIn(min: number, max = Infinity, exclusive = false): NumberRule {
  const low = exclusive ? `> ${min}` : `>= ${min}`;
  return {
    what: max === Infinity ? `a number ${low}` : exclusive ? `a number in (${min}, ${max}]` : `a number in [${min}, ${max}]`,
    ok: (n) => (exclusive ? n > min : n >= min) && n <= max,
  };
}

/** Seeds: any integer from the int32 minimum up (a printed default seed can be above int32). */
export const SEED = integerIn(-0x80000000);

/** Reads a number given as `--name N`; `fallback` when the option is absent. */
export function numberOption(values: CliValues, name: string, rule: NumberRule, fallback: number): number {
  return optionalNumber(values, name, rule) ?? fallback;
}

/** Reads a number given as `--name N`; undefined when the option is absent. */
export function optionalNumber(values: CliValues, name: string, rule: NumberRule): number | undefined {
  const raw = values[name];
  return raw === undefined ? undefined : toNumber(name, String(raw), rule);
}

/** Parses one option value as a number that `rule` accepts. */
export function toNumber(name: string, raw: string, rule: NumberRule): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !rule.ok(n)) bad(`--${name} must be ${rule.what}, got ${JSON.stringify(raw)}`);
  return n;
}

/** Reads `--name` as one of `choices`; `fallback` when absent. */
export function choiceOption<T extends string>(values: CliValues, name: string, choices: readonly T[], fallback: T): T {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!choices.includes(raw as T)) bad(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/**
 * The life of a program: parse, then `--help` (usage on stdout, 0), a bad option
 * (`name: message`, a blank line and the usage on stderr, 2), or the run's own exit code.
 */
export async function runCli<O extends { readonly help?: boolean }>(
  name: string,
  usage: string,
  argv: readonly string[],
  parse: (argv: readonly string[]) => O,
  run: (o: O) => Promise<number>,
): Promise<number> {
  let o: O;
  try {
    o = parse(argv);
  } catch (e) {
    if (e instanceof EngineError && e.code === 'INVALID_OPTION') {
      process.stderr.write(`${name}: ${e.message}\n\n${usage}\n`);
      return 2;
    }
    throw e;
  }
  if (o.help) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  return run(o);
}

/**
 * Runs `main` with the command line when the module at `moduleUrl` is the script node was
 * started with, and sets the exit code from it. An error that escapes `main` is printed
 * and exits with `crashCode`.
 */
export function runIfMain(moduleUrl: string, name: string, main: (argv: readonly string[]) => Promise<number>, crashCode = 1): void {
  const script = process.argv[1];
  if (script === undefined || pathToFileURL(script).href !== moduleUrl) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = crashCode;
    },
  );
}

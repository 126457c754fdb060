/**
 * `npm run bench:browser [-- --quick] [-- --json] [-- --workers N]`: the engine in a
 * real browser, side by side with comlink, workerpool and bare postMessage in the same
 * page. Serves the bench's build (dist/bench-web, made by `npm run build`) cross-origin
 * isolated on 127.0.0.1, opens it in Debian's Chromium (headless, through
 * playwright-core), waits for the page's report and prints it. With --json the last
 * stdout line is one JSON object.
 *
 * Read ratios, not absolute figures: the machine is shared, and every peer is measured
 * in the same page, interleaved, so drift shows as a spread between passes.
 */
import { chromium, type Browser } from 'playwright-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../../engine/errors.js';
import { cliOptions, integerIn, numberIn, optionalNumber, parseCli, runCli, runIfMain } from '../../game/cli-args.js';
import { startServer } from '../../scripts/serve.js';
import { ERROR_GLOBAL, FULL, PEERS, QUICK, REPORT_GLOBAL, configQuery, type BenchConfig, type FrameBudget, type PageReport, type PeerName, type Percentiles } from './protocol.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** dist/bench-web, from this file's location (dist/bench/browser/run.js or bench/browser/run.ts). */
export function benchWebRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const inDist = here.split(/[\\/]/).includes('dist');
  return inDist ? join(here, '..', '..', 'bench-web') : join(here, '..', '..', 'dist', 'bench-web');
}

export const USAGE = `Usage: npm run bench:browser -- [--quick] [--json] [--workers N] [--seconds S]

  --workers N    workers for every peer (default: the engine's default)
  --seconds S    seconds of tiny jobs per peer per pass (default ${FULL.seconds}; --quick ${QUICK.seconds})
  --quick        a few seconds in all (fewer samples, one pass): proves it runs, figures are rough
  --json         the last stdout line is one JSON object
  --help         this text`;

export interface RunOptions {
  readonly quick?: boolean;
  readonly json?: boolean;
  readonly workers?: number;
  readonly seconds?: number;
  readonly help?: boolean;
}

const OPTIONS = cliOptions(['workers', 'seconds'], ['quick', 'json']);

export function parseRunArgs(argv: readonly string[]): RunOptions {
  const v = parseCli(argv, OPTIONS);
  const workers = optionalNumber(v, 'workers', integerIn(1, 64));
  const seconds = optionalNumber(v, 'seconds', numberIn(0.05, 60));
  return {
    quick: v.quick === true,
    json: v.json === true,
    help: v.help === true,
    ...(workers === undefined ? {} : { workers }),
    ...(seconds === undefined ? {} : { seconds }),
  };
}

export function configFor(o: RunOptions): BenchConfig {
  const base = o.quick ? QUICK : FULL;
  return { ...base, workers: o.workers ?? base.workers, seconds: o.seconds ?? base.seconds };
}

/** The page's report and the browser that made it. */
export interface RunReport extends PageReport {
  /** Chromium's version string, as playwright reads it. */
  readonly browserVersion: string;
}

/** Serves the bench, runs the page in Chromium, returns its report. Closes everything it opened. */
export async function runInChromium(config: BenchConfig, log: (line: string) => void = () => {}): Promise<RunReport> {
  const root = benchWebRoot();
  if (!existsSync(join(root, 'bench.entry.js'))) throw new EngineError('INVALID_OPTION', `${root} is not built: run npm run build first`);
  if (!existsSync(CHROMIUM)) throw new EngineError('INVALID_OPTION', `${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  const server = await startServer({ root, port: 0 });
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${server.url}?${configQuery(config)}`);
    let last = '';
    const started = Date.now();
    const limitMs = 60_000 + config.passes * PEERS.length * config.seconds * 4000 + config.frames * 400;
    for (;;) {
      const state = await page.evaluate(() => ({ done: document.body.dataset.done === '1', error: document.body.dataset.error === '1', status: document.getElementById('status')?.textContent ?? '' }));
      if (state.status !== last) {
        last = state.status;
        log(`  page: ${state.status}`);
      }
      if (state.done) break;
      if (state.error) {
        const message = await page.evaluate((k) => String((globalThis as Record<string, unknown>)[k]), ERROR_GLOBAL);
        throw new Error(`the bench page failed: ${message}${errors.length ? `\n${errors.join('\n')}` : ''}`);
      }
      if (Date.now() - started > limitMs) throw new Error(`the bench page did not finish within ${limitMs} ms (last: ${last}); ${errors.join(' | ') || 'no page errors'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (errors.length) throw new Error(`the bench page reported errors:\n${errors.join('\n')}`);
    const report = await page.evaluate((k) => (globalThis as Record<string, unknown>)[k] as PageReport, REPORT_GLOBAL);
    return { ...report, browserVersion: browser.version() };
  } finally {
    await browser?.close();
    await server.close();
  }
}

const r1 = (n: number): number => Number(n.toFixed(1));
const r3 = (n: number): number => Number(n.toFixed(3));
const pc = (p: Percentiles): { p50: number; p99: number; max: number } => ({ p50: r1(p.p50), p99: r1(p.p99), max: r1(p.max) });
const byPeer = <T>(f: (name: PeerName) => T): Record<PeerName, T> => Object.fromEntries(PEERS.map((n) => [n, f(n)])) as Record<PeerName, T>;

/** The report as the one JSON line `--json` prints. */
export function toJson(r: RunReport, quick: boolean): Record<string, unknown> {
  const rate = (n: PeerName): number => r.peers[n].perSecond;
  return {
    tiny_jobs_per_s: byPeer((n) => Math.round(rate(n))),
    tiny_jobs_passes: byPeer((n) => r.peers[n].passes.map(Math.round)),
    tiny_jobs_bundled_per_s: { engine: Math.round(r.engineBundled.perSecond), passes: r.engineBundled.passes.map(Math.round), vs_comlink: r1(r.engineBundled.perSecond / rate('comlink')) },
    round_trip_us: byPeer((n) => pc(r.peers[n].roundTripUs)),
    round_trip_after_idle_us: byPeer((n) => pc(r.peers[n].sleepyRoundTripUs)),
    engine_round_trip_parts_us: {
      pickup: pc(r.engineRoundTripParts.backToBack.pickup),
      delivery: pc(r.engineRoundTripParts.backToBack.delivery),
      pickup_after_idle: pc(r.engineRoundTripParts.afterIdle.pickup),
      delivery_after_idle: pc(r.engineRoundTripParts.afterIdle.delivery),
    },
    frame_budget_ms: frameJson(r.frameBudgetMs),
    frame_budget_paced_ms: frameJson(r.frameBudgetPacedMs),
    ratios: {
      engine_vs_comlink: r1(rate('engine') / rate('comlink')),
      engine_vs_workerpool: r1(rate('engine') / rate('workerpool')),
      engine_vs_postmessage: r1(rate('engine') / rate('postmessage')),
      round_trip_p99_engine_vs_comlink: r3(r.peers.engine.roundTripUs.p99 / r.peers.comlink.roundTripUs.p99),
      frame_budget_p99_paced_vs_default: r3(r.frameBudgetPacedMs.p99 / r.frameBudgetMs.p99),
    },
    jobs_checked: { ...byPeer((n) => r.peers[n].verification.ok), engine_bundled: r.engineBundled.verification.ok },
    jobs_lost_or_wrong: PEERS.reduce((s, n) => s + bad(r.peers[n].verification), bad(r.frameVerification) + bad(r.engineBundled.verification)),
    workers: r.workers,
    hardware_concurrency: r.hardwareConcurrency,
    cross_origin_isolated: r.crossOriginIsolated,
    browser: `Chromium ${r.browserVersion}`,
    quick,
    seconds: r1(r.seconds),
  };
}

const frameJson = (f: FrameBudget): Record<string, unknown> => ({
  jobs_per_frame: f.jobsPerFrame,
  p50: r3(f.p50),
  p99: r3(f.p99),
  max: r3(f.max),
  refused: f.refused,
  round_p99s: f.roundP99.map(r3),
  wakes: { count: f.wakes.count, ms: r3(f.wakes.ms) },
});

const bad = (v: { submitted: number; ok: number }): number => v.submitted - v.ok;

function printReport(r: RunReport, out: (line: string) => void): void {
  out(`Chromium ${r.browserVersion}: workers ${r.workers} per peer, navigator.hardwareConcurrency ${r.hardwareConcurrency}, cross-origin isolated ${r.crossOriginIsolated}`);
  out('tiny jobs kept in flight (best pass; all passes):');
  for (const n of PEERS) {
    const p = r.peers[n];
    out(`  ${n.padEnd(12)} ${Math.round(p.perSecond).toLocaleString('en-US').padStart(11)} /s   [${p.passes.map((x) => Math.round(x).toLocaleString('en-US')).join(', ')}]`);
  }
  out(`  ${'bundled'.padEnd(12)} ${Math.round(r.engineBundled.perSecond).toLocaleString('en-US').padStart(11)} /s   [${r.engineBundled.passes.map((x) => Math.round(x).toLocaleString('en-US')).join(', ')}]  (the engine's jobs in bundles of 1,024: ${(r.engineBundled.perSecond / r.peers.comlink.perSecond).toFixed(1)}x comlink)`);
  out(`  engine ${(r.peers.engine.perSecond / r.peers.comlink.perSecond).toFixed(1)}x comlink, ${(r.peers.engine.perSecond / r.peers.workerpool.perSecond).toFixed(1)}x workerpool, ${(r.peers.engine.perSecond / r.peers.postmessage.perSecond).toFixed(1)}x postMessage`);
  out('round trip of one job, us (back to back | after 3 ms idle):');
  for (const n of PEERS) {
    const a = r.peers[n].roundTripUs;
    const b = r.peers[n].sleepyRoundTripUs;
    out(`  ${n.padEnd(12)} p50 ${a.p50.toFixed(1).padStart(7)}  p99 ${a.p99.toFixed(1).padStart(8)}  max ${a.max.toFixed(0).padStart(6)}   |  p50 ${b.p50.toFixed(1).padStart(7)}  p99 ${b.p99.toFixed(1).padStart(8)}`);
  }
  const parts = r.engineRoundTripParts;
  const part = (p: Percentiles): string => `p50 ${p.p50.toFixed(1)}, p99 ${p.p99.toFixed(1)}`;
  out(`  engine, taken apart: submit to handler ${part(parts.backToBack.pickup)}; publish to poll ${part(parts.backToBack.delivery)}  |  after idle: ${part(parts.afterIdle.pickup)}; ${part(parts.afterIdle.delivery)}`);
  for (const [label, fb] of [['default options', r.frameBudgetMs], ['framePacing: true', r.frameBudgetPacedMs]] as const) {
    out(`frame budget, ${fb.jobsPerFrame} COMPUTE_HEAVY jobs per 30 Hz frame, ${label}: engine main-thread time p50 ${fb.p50.toFixed(3)} ms, p99 ${fb.p99.toFixed(3)} ms, max ${fb.max.toFixed(2)} ms (${fb.refused} refused; each round's p99: ${fb.roundP99.map((x) => x.toFixed(3)).join(', ')}; ${fb.wakes.count} wake-ups of sleeping workers, ${fb.wakes.ms.toFixed(2)} ms in all)`);
  }
  const lost = PEERS.reduce((s, n) => s + bad(r.peers[n].verification), bad(r.frameVerification));
  out(`every job checked: ${lost === 0 ? 'all came back exactly once with the right value' : `${lost} lost, duplicated or wrong`}`);
}

function main(argv: readonly string[]): Promise<number> {
  return runCli('bench:browser', USAGE, argv, parseRunArgs, async (o) => {
    const out = (line: string): void => {
      if (o.json) process.stderr.write(line + '\n');
      else process.stdout.write(line + '\n');
    };
    const config = configFor(o);
    out(`framejobs browser bench${o.quick ? ' (quick)' : ''}: Chromium headless, ${config.seconds} s per peer per pass, ${config.passes} passes`);
    const report = await runInChromium(config, out);
    printReport(report, out);
    if (o.json) process.stdout.write(JSON.stringify(toJson(report, o.quick === true)) + '\n');
    return PEERS.some((n) => bad(report.peers[n].verification) !== 0) || bad(report.frameVerification) !== 0 ? 1 : 0;
  });
}

runIfMain(import.meta.url, 'bench:browser', main);

/**
 * The debug panel in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, loading the built page (dist/web, made by `npm run build`) from the
 * panel's own server. Everything the page shows comes from a real engine on real Web
 * Workers over a real SharedArrayBuffer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer } from '../scripts/serve.js';
import { checkTrace } from './fixtures/trace-check.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WEB = join(ROOT, 'dist', 'web');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

async function openBrowser(profile: string): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  if (!existsSync(join(WEB, 'panel.entry.js'))) throw new Error('dist/web is not built: run npm run build (npm test does)');
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 1000 },
  });
}

/** Page errors and console errors, so a test can show what went wrong in the page. */
function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

async function waitReady(page: Page, errors: string[]): Promise<void> {
  try {
    await page.waitForFunction(() => document.body.dataset.ready === '1' || document.body.dataset.error !== undefined, null, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`page never became ready; page errors: ${errors.join(' | ') || 'none'}`, { cause: e });
  }
  const err = await page.evaluate(() => document.body.dataset.error ?? null);
  expect(err, `engine start failed in the page; errors: ${errors.join(' | ')}`).toBeNull();
}

const lightStates = (page: Page): Promise<string[]> =>
  page.$$eval('[data-testid="worker-light"]', (els) => els.map((e) => (e as HTMLElement).dataset.state ?? ''));

describe('debug panel in Chromium (cross-origin isolated)', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let profile: string;

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'framejobs-chromium-'));
    server = await startServer({ root: WEB, port: 0 });
    context = await openBrowser(profile);
    page = await context.newPage();
    errors = watch(page);
    await page.goto(server.url);
    await waitReady(page, errors);
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('loads cross-origin isolated, with one alive light per worker', async () => {
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => typeof SharedArrayBuffer)).toBe('function');
    expect(await page.isHidden('[data-testid="isolation"]')).toBe(true);
    await page.waitForFunction(() => {
      const lights = [...document.querySelectorAll<HTMLElement>('[data-testid="worker-light"]')];
      return lights.length === 4 && lights.every((l) => l.dataset.state === 'alive');
    }, null, { timeout: 15_000 });
    // The engine's wake-ups of sleeping workers (stats().wakes), shown as the stats refresh.
    await page.waitForFunction(() => / of /.test(document.querySelector('[data-testid="slow-wakes"]')?.textContent ?? ''), null, { timeout: 15_000 });
    expect((await page.textContent('[data-testid="slow-wakes"]')) ?? '').toMatch(/^\d+ of [\d,]+, longest \d+\.\d\d ms$/);
    expect(errors).toEqual([]);
  });

  it('Quick Test passes', async () => {
    await page.click('[data-testid="quick-test"]');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="quick-result"]')?.dataset.ok !== undefined, null, {
      timeout: 20_000,
    });
    const text = (await page.textContent('[data-testid="quick-result"]')) ?? '';
    expect(text, text).toMatch(/^ok: engine working/);
    expect(await page.getAttribute('[data-testid="quick-result"]', 'data-ok')).toBe('1');
  });

  it('Stress Test shows a grade and loses nothing', async () => {
    await page.click('[data-testid="stress-test"]');
    await page.waitForFunction(() => /^[A-F]$/.test(document.querySelector('[data-testid="grade"]')?.textContent ?? ''), null, { timeout: 30_000 });
    const grade = (await page.textContent('[data-testid="grade"]')) ?? '';
    const report = (await page.textContent('[data-testid="stress-report"]')) ?? '';
    console.log(`panel stress grade ${grade}\n${report}`);
    expect(await page.textContent('[data-testid="stress-lost"]')).toBe('0');
    expect(grade, report).not.toBe('F');
    expect(report).toContain('GRADE');
  });

  it('Kill worker is detected and respawned, and every light ends alive', async () => {
    await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('[data-testid="kill-worker"]')?.disabled, null, { timeout: 15_000 });
    const before = Number(await page.textContent('[data-testid="respawns"]'));
    await page.click('[data-testid="kill-worker"]');
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="respawns"]')?.textContent) > b, before, { timeout: 15_000 });
    await page.click('[data-testid="kill-worker"]');
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid="respawns"]')?.textContent) > b + 1, before, { timeout: 15_000 });
    await page.waitForFunction(() => {
      const lights = [...document.querySelectorAll<HTMLElement>('[data-testid="worker-light"]')];
      return lights.length === 4 && lights.every((l) => l.dataset.state === 'alive');
    }, null, { timeout: 15_000 });
    expect(await lightStates(page)).toEqual(['alive', 'alive', 'alive', 'alive']);
  });

  it('draws the timeline, and Download trace saves a well-formed Chrome trace', async () => {
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="timeline"]')?.dataset.jobs ?? 0) > 0, null, { timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-trace"]')]);
    expect(download.suggestedFilename()).toBe('framejobs-trace.json');
    const c = checkTrace(readFileSync(await download.path(), 'utf8'));
    expect(c.problems.slice(0, 10)).toEqual([]);
    expect(c.threadNames.get(1)).toBe('main thread');
    for (let w = 0; w < 4; w++) expect(c.threadNames.get(2 + w)).toBe(`worker ${w}`);
    expect(c.slicesByJob.size).toBeGreaterThan(0);
    expect(c.flows.size).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('writes a screenshot for a person to look at', async () => {
    // Let the game draw a few frames with paths on screen.
    await page.waitForTimeout(1500);
    const out = join(ROOT, 'artifacts', 'panel.png');
    mkdirSync(join(ROOT, 'artifacts'), { recursive: true });
    await page.screenshot({ path: out, fullPage: true });
    expect(statSync(out).size).toBeGreaterThan(10_000);
    expect(errors).toEqual([]);
  });
});

describe('debug panel in Chromium without cross-origin isolation', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'framejobs-chromium-'));
    server = await startServer({ root: WEB, port: 0, isolation: false });
    context = await openBrowser(profile);
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('says so clearly and still runs the engine inline', async () => {
    const page = await context.newPage();
    const errors = watch(page);
    await page.goto(server.url);
    await waitReady(page, errors);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    expect(await page.isVisible('[data-testid="isolation"]')).toBe(true);
    const banner = (await page.textContent('[data-testid="isolation"]')) ?? '';
    expect(banner).toContain('not cross-origin isolated');
    expect(banner).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(banner).toContain('workers: 0');
    // The banner is the engine's own refusal (EngineError NOT_ISOLATED), not the page's guess.
    expect(await page.getAttribute('[data-testid="isolation"]', 'data-code')).toBe('NOT_ISOLATED');
    expect(await page.isDisabled('[data-testid="kill-worker"]')).toBe(true);
    await page.click('[data-testid="quick-test"]');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid="quick-result"]')?.dataset.ok !== undefined, null, {
      timeout: 20_000,
    });
    const text = (await page.textContent('[data-testid="quick-result"]')) ?? '';
    expect(text, text).toMatch(/^ok: engine working/);
    expect(text).toContain('inline (0 workers)');
    expect(errors).toEqual([]);
  });
});

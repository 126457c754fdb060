/**
 * The debug panel's page script (bundled to dist/web/panel.entry.js).
 *
 * It starts an EngineCore on Web Workers, runs the game scene at a fixed 30 Hz on the
 * page's main thread, and shows the engine live: one light per worker, ring occupancy,
 * throughput, the frame-latency histogram, missed deadlines and the game itself. Its
 * buttons run the Quick Test, the Stress Test, kill a worker, or restart the engine with
 * another worker count.
 *
 * Stable hooks for tests (ours and anyone's): data-testid attributes `quick-test`,
 * `stress-test`, `kill-worker`, `worker-count`, `grade`, `quick-result`, `worker-light`
 * (data-state alive | stale | dead; a worker still starting shows `stale`), `respawns`,
 * `stress-lost`, `download-trace`, `timeline` (data-jobs: job boxes drawn last time);
 * `document.body.dataset.ready` is "1" while an engine is up.
 *
 * Everything runs from timers and requestAnimationFrame; nothing here blocks, and the
 * main thread never calls Atomics.wait.
 */
import type { EngineStats, WorkerHealth } from '../engine/api.js';
import { EngineCore } from '../engine/core.js';
import { EngineError } from '../engine/errors.js';
import { isolationStatus } from '../engine/host.js';
import { initRapier } from '../game/physics.js';
import { FixedLoop } from '../frame/loop.js';
import { sleep } from '../game/time.js';
import { JOB_CAPACITY } from '../stress/modes/common.js';
import { runPanelBurst } from './burst.js';
import { CLIENT_GAME, CLIENT_QUICK, ResultRouter } from './clients.js';
import { QuickTest } from './quick-test.js';
import { downloadTrace, drawTimeline } from './timeline.js';
import { PanelScene } from './scene.js';

/**
 * Admission budget per worker for the game and the Quick Test, ms of estimated queued
 * work: a submit past it is refused (the scene asks again next frame) instead of queueing
 * behind work that would make it late. The Stress Test swaps in the stress burst's own,
 * tighter budget (BURST_QUEUE_MS, see burst.ts) while it runs, and puts this one back.
 */
const MAX_QUEUE_MS = 12;
/** Throughput samples: one per 250 ms, 10 s of history. */
const SAMPLE_MS = 250;
const SAMPLES = 40;
/** The timeline is redrawn this often, ms (an export of the last second each time). */
const TIMELINE_MS = 250;
/**
 * Job timeline ring size, events per thread: several seconds of the game, the last part
 * of a Stress Test burst (EngineOptions.trace).
 */
const TRACE_EVENTS = 1 << 15;

type Mode = 'starting' | 'game' | 'quick' | 'stress' | 'restarting' | 'failed';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`panel markup is missing #${id}`);
  return el as T;
};

const ui = {
  status: $('status'),
  isolation: $('isolation'),
  quick: $<HTMLButtonElement>('quick-test'),
  stress: $<HTMLButtonElement>('stress-test'),
  kill: $<HTMLButtonElement>('kill-worker'),
  count: $<HTMLSelectElement>('worker-count'),
  respawns: $('respawns'),
  slowWakes: $('slow-wakes'),
  lights: $('lights'),
  jobBar: $('job-bar'),
  jobOcc: $('job-occ'),
  resBar: $('res-bar'),
  resOcc: $('res-occ'),
  arenaBar: $('arena-bar'),
  arenaOcc: $('arena-occ'),
  throughput: $('throughput'),
  spark: $<HTMLCanvasElement>('spark'),
  hist: $('hist'),
  missed: $('missed'),
  expired: $('expired'),
  late: $('late'),
  frame: $('frame'),
  mainMs: $('main-ms'),
  quickResult: $('quick-result'),
  grade: $('grade'),
  stressReport: $('stress-report'),
  stressLost: $('stress-lost'),
  downloadTrace: $<HTMLButtonElement>('download-trace'),
  timeline: $<HTMLCanvasElement>('timeline'),
  game: $<HTMLCanvasElement>('game'),
  gameInfo: $('game-info'),
};

class Panel {
  engine: EngineCore | null = null;
  mode: Mode = 'starting';
  readonly router = new ResultRouter();
  scene: PanelScene | null = null;
  quick: QuickTest | null = null;
  frame = 0;
  /** The fixed 30 Hz step: at most 3 catch-up steps per tick, a long pause clamped, the rest dropped. */
  private readonly loop = new FixedLoop(() => this.step(this.tickAt));
  private tickAt = 0;
  private last = 0;
  private lastRender = 0;
  private lastTimeline = 0;
  private loopTimer: ReturnType<typeof setInterval> | null = null;
  private readonly spark = new Float64Array(SAMPLES);
  private sparkN = 0;
  private lastSampleAt = 0;
  private lastCompleted = 0;
  private engineMs = 0;
  private killNext = 0;
  private lights: HTMLElement[] = [];
  private readonly histCols: HTMLElement[] = [];
  private readonly histCaps: HTMLElement[] = [];
  private isolated: boolean;

  constructor() {
    this.isolated = isolationStatus().isolated;
    // The level's nav grid is shared memory too; without isolation it needs the stand-in
    // before anything is built. The engine still refuses workers (see boot).
    if (!this.isolated) installInlineFallback();
    const labels = ['0', '1', '2', '3+'];
    for (let i = 0; i < 4; i++) {
      const col = document.createElement('div');
      col.className = `col${i === 2 ? ' two' : i === 3 ? ' late' : ''}`;
      const fill = document.createElement('div');
      fill.className = 'fill';
      const cap = document.createElement('div');
      cap.className = 'cap';
      cap.textContent = `${labels[i]}: 0`;
      col.append(fill, cap);
      ui.hist.append(col);
      this.histCols.push(fill);
      this.histCaps.push(cap);
    }
    ui.quick.onclick = () => this.runQuick();
    ui.stress.onclick = () => void this.runStress();
    ui.kill.onclick = () => this.killOne();
    ui.count.onchange = () => void this.restart(Number(ui.count.value));
    ui.downloadTrace.onclick = () => {
      if (this.engine) downloadTrace(this.engine);
    };
  }

  async boot(): Promise<void> {
    setStatus('loading physics…');
    await initRapier();
    this.scene = new PanelScene();
    this.router.set(CLIENT_GAME, this.scene);
    ui.gameInfo.textContent = `${this.scene.grid.width}×${this.scene.grid.height} level · ${this.scene.agentCount} agents · ${this.scene.physics.crateCount} crates`;
    try {
      await this.startEngine(Number(ui.count.value), true);
    } catch (err) {
      if (!(err instanceof EngineError && err.code === 'NOT_ISOLATED')) throw err;
      // The engine refused to start workers without shared memory and said why: show
      // that, and run inline rather than leave a blank page.
      this.isolated = false;
      ui.isolation.hidden = false;
      ui.isolation.dataset.code = err.code;
      ui.isolation.textContent =
        `${err.message} Falling back to inline mode (workers: 0): every job runs on this page's thread inside poll(), ` +
        'correct but slower, and Kill worker has nothing to kill.';
      ui.count.value = '0';
      await this.startEngine(0);
    }
    this.last = performance.now();
    this.loopTimer = setInterval(() => this.tick(), 4);
    requestAnimationFrame(this.render);
  }

  /** `quietIsolation`: a NOT_ISOLATED refusal is rethrown without marking the page failed (boot falls back). */
  private async startEngine(workers: number, quietIsolation = false): Promise<void> {
    this.mode = 'starting';
    setStatus(`starting ${workers} worker(s)…`);
    const base = new URL('.', location.href);
    try {
      const engine = await EngineCore.start({
        workers,
        // The stress engines' job slots (the engine default): the burst's ledger is sized for them.
        jobCapacity: JOB_CAPACITY,
        maxQueueMs: MAX_QUEUE_MS,
        kindModules: [new URL('kinds.entry.js', base)],
        workerUrl: new URL('worker.entry.js', base),
        shared: { nav: this.scene!.grid.sab },
        trace: { events: TRACE_EVENTS },
      });
      engine.onEvent = (e) => console.info('[framejobs]', JSON.stringify(e));
      engine.beginFrame(this.frame);
      this.engine = engine;
      this.scene!.attach(engine);
      this.buildLights(engine.workerCount);
      this.mode = 'game';
      this.setButtons(true);
      const where = engine.workerCount === 0 ? 'inline (0 workers)' : `${engine.workerCount} Web Worker(s)`;
      setStatus(`engine running: ${where}${this.isolated ? ', cross-origin isolated' : ', NOT cross-origin isolated'}`, 'ok');
      document.body.dataset.ready = '1';
    } catch (err) {
      if (quietIsolation && err instanceof EngineError && err.code === 'NOT_ISOLATED') throw err;
      this.mode = 'failed';
      const e = err as Error;
      const code = err instanceof EngineError ? `${err.code}: ` : '';
      setStatus(`engine failed to start: ${code}${e.message}`, 'bad');
      document.body.dataset.ready = '0';
      document.body.dataset.error = `${code}${e.message}`;
      throw err;
    }
  }

  private async restart(workers: number): Promise<void> {
    if (this.mode !== 'game') return;
    this.mode = 'restarting';
    this.setButtons(false);
    document.body.dataset.ready = '0';
    const old = this.engine;
    this.engine = null;
    if (old) await old.shutdown({ timeoutMs: 2000 });
    await this.startEngine(workers);
  }

  private setButtons(on: boolean): void {
    ui.quick.disabled = !on;
    ui.stress.disabled = !on;
    ui.kill.disabled = !on || (this.engine?.workerCount ?? 0) === 0;
    ui.count.disabled = !on || !this.isolated;
    ui.downloadTrace.disabled = !on;
  }

  private buildLights(n: number): void {
    ui.lights.textContent = '';
    this.lights = [];
    const count = Math.max(1, n);
    for (let i = 0; i < count; i++) {
      const el = document.createElement('div');
      el.className = 'light';
      el.dataset.testid = 'worker-light';
      el.dataset.worker = String(i);
      el.dataset.state = 'stale';
      el.innerHTML = `<span class="dot"></span><span class="label">${n === 0 ? 'inline' : `worker ${i}`} <b>starting</b><br><span class="jobs">0 jobs</span></span>`;
      ui.lights.append(el);
      this.lights.push(el);
    }
  }

  /** Runs the fixed steps the time since the last tick pays for (from a short timer). */
  private tick(): void {
    const now = performance.now();
    this.tickAt = now;
    this.loop.advance(now - this.last);
    this.last = now;
  }

  private step(now: number): void {
    const engine = this.engine;
    const scene = this.scene!;
    this.frame++;
    if (engine === null || (this.mode !== 'game' && this.mode !== 'quick')) {
      scene.physics.step();
      return;
    }
    const t0 = performance.now();
    engine.beginFrame(this.frame);
    scene.onFrame(engine, this.frame);
    const quick = this.quick;
    if (quick) {
      quick.onFrame(engine, this.frame, now);
      if (quick.done) this.finishQuick(quick);
    }
    this.router.poll(engine);
    this.engineMs = this.engineMs * 0.9 + (performance.now() - t0) * 0.1;
  }

  runQuick(): void {
    if (this.mode !== 'game' || !this.engine) return;
    this.setButtons(false);
    this.mode = 'quick';
    this.scene!.paused = true;
    this.quick = new QuickTest();
    this.router.set(CLIENT_QUICK, this.quick);
    ui.quickResult.className = 'result running';
    ui.quickResult.textContent = 'running (3 s)…';
    delete ui.quickResult.dataset.ok;
  }

  private finishQuick(q: QuickTest): void {
    const r = q.report();
    this.quick = null;
    this.router.set(CLIENT_QUICK, null);
    this.scene!.paused = false;
    this.mode = 'game';
    ui.quickResult.className = `result ${r.ok ? 'ok' : 'bad'}`;
    ui.quickResult.textContent = r.text;
    ui.quickResult.dataset.ok = r.ok ? '1' : '0';
    this.setButtons(true);
  }

  async runStress(): Promise<void> {
    const engine = this.engine;
    if (this.mode !== 'game' || !engine) return;
    this.setButtons(false);
    this.mode = 'stress';
    this.scene!.paused = true;
    ui.grade.textContent = '';
    ui.stressLost.textContent = '';
    delete ui.grade.dataset.grade;
    ui.stressReport.className = 'result running';
    ui.stressReport.textContent = 'waiting for the game\'s jobs in flight…';
    try {
      // The burst's books must see only its own jobs: let the game's finish first.
      const until = performance.now() + 3000;
      while (engine.inFlight > 0 && performance.now() < until) {
        engine.beginFrame(this.frame);
        this.router.poll(engine);
        await sleep(5);
      }
      ui.stressReport.textContent = 'burst running (5 s)…';
      const out = await runPanelBurst(engine, {
        seconds: 5,
        jobCapacity: JOB_CAPACITY,
        onProgress: (f, done, refused) => {
          ui.stressReport.textContent = `burst running: ${Math.round(f * 100)} %, ${done.toLocaleString('en-US')} done, ${refused.toLocaleString('en-US')} refused`;
        },
      });
      this.frame = engine.frame;
      ui.grade.textContent = out.report.grade;
      ui.grade.dataset.grade = out.report.grade;
      ui.grade.dataset.lost = String(out.report.metrics.lost);
      ui.stressReport.className = `result ${out.report.grade === 'F' ? 'bad' : 'ok'}`;
      ui.stressReport.textContent = out.text;
      ui.stressLost.textContent = String(out.report.metrics.lost);
      console.info('[framejobs] stress', JSON.stringify({ grade: out.report.grade, jobs: out.result.jobs, throughputPerS: Math.round(out.result.throughputPerS), latencyMs: out.result.latencyMs }));
    } catch (err) {
      ui.grade.textContent = 'F';
      ui.grade.dataset.grade = 'F';
      ui.stressReport.className = 'result bad';
      ui.stressReport.textContent = `stress test could not run: ${(err as Error).message}`;
    } finally {
      this.scene!.paused = false;
      this.mode = 'game';
      this.setButtons(true);
    }
  }

  /** Kills the next worker that is alive, round robin, so repeated clicks hit different ones. */
  killOne(): void {
    const engine = this.engine;
    if (!engine || engine.workerCount === 0) return;
    const health = engine.health();
    for (let k = 0; k < health.length; k++) {
      const i = (this.killNext + k) % health.length;
      if (health[i].state === 'alive' || health[i].state === 'stale') {
        engine.killWorker(i);
        this.killNext = i + 1;
        return;
      }
    }
  }

  private readonly render = (t: number): void => {
    requestAnimationFrame(this.render);
    // During the burst the page's own drawing would compete with the burst for the main
    // thread and show up as latency in its report: redraw at 4 Hz only.
    if (this.mode === 'stress' && t - this.lastRender < 250) return;
    this.lastRender = t;
    const engine = this.engine;
    const ctx = ui.game.getContext('2d');
    if (ctx) this.scene!.draw(ctx, ui.game.width, ui.game.height);
    if (engine) this.refresh(engine);
    // The timeline exports the last second each time: not while the burst is measured.
    if (engine && this.mode !== 'stress' && t - this.lastTimeline >= TIMELINE_MS) {
      this.lastTimeline = t;
      ui.timeline.dataset.jobs = String(drawTimeline(ui.timeline, engine));
    }
  };

  private refresh(engine: EngineCore): void {
    const s = engine.stats();
    const health = engine.health();
    this.updateLights(health, engine.workerCount);
    ui.respawns.textContent = String(s.respawns);
    ui.slowWakes.textContent = `${s.wakes.slow} of ${s.wakes.count.toLocaleString('en-US')}, longest ${s.wakes.maxMs.toFixed(2)} ms`;
    bar(ui.jobBar, ui.jobOcc, s.queueOccupancy, s.queueCapacity);
    bar(ui.resBar, ui.resOcc, s.resultOccupancy, s.resultCapacity);
    bar(ui.arenaBar, ui.arenaOcc, s.arenaBytesUsed, s.arenaBytes, true);
    this.sampleThroughput(s);
    const h = this.router.appliedAfter;
    const max = Math.max(1, h[0], h[1], h[2], h[3]);
    for (let i = 0; i < 4; i++) {
      this.histCols[i].style.height = `${(100 * h[i]) / max}%`;
      this.histCaps[i].textContent = `${['0', '1', '2', '3+'][i]}: ${h[i].toLocaleString('en-US')}`;
    }
    ui.expired.textContent = s.expired.toLocaleString('en-US');
    ui.late.textContent = h[3].toLocaleString('en-US');
    ui.missed.textContent = (s.expired + h[3]).toLocaleString('en-US');
    ui.frame.textContent = String(engine.frame);
    ui.mainMs.textContent = this.engineMs.toFixed(2);
  }

  private updateLights(health: readonly WorkerHealth[], n: number): void {
    for (let i = 0; i < this.lights.length && i < health.length; i++) {
      const hw = health[i];
      const el = this.lights[i];
      // 'starting' is not one of the three public states: a worker not yet beating is stale.
      const state = hw.state === 'starting' ? 'stale' : hw.state;
      if (el.dataset.state !== state) el.dataset.state = state;
      const label = el.querySelector('b');
      const text = n === 0 ? 'inline' : hw.state === 'dead' && hw.reason ? `dead (${hw.reason})` : hw.state;
      if (label && label.textContent !== text) label.textContent = text;
      const jobs = el.querySelector('.jobs');
      const jt = `${hw.jobsProcessed.toLocaleString('en-US')} jobs · ${hw.respawns} respawn(s)`;
      if (jobs && jobs.textContent !== jt) jobs.textContent = jt;
    }
  }

  private sampleThroughput(s: EngineStats): void {
    const now = performance.now();
    if (this.lastSampleAt === 0) {
      this.lastSampleAt = now;
      this.lastCompleted = s.completed;
      return;
    }
    if (now - this.lastSampleAt < SAMPLE_MS) return;
    const rate = ((s.completed - this.lastCompleted) * 1000) / (now - this.lastSampleAt);
    this.lastSampleAt = now;
    this.lastCompleted = s.completed;
    if (rate < 0) return; // a new engine started its counters again
    this.spark.copyWithin(0, 1);
    this.spark[SAMPLES - 1] = rate;
    this.sparkN = Math.min(SAMPLES, this.sparkN + 1);
    let recent = 0;
    for (let i = SAMPLES - 4; i < SAMPLES; i++) recent += this.spark[i];
    ui.throughput.textContent = Math.round(recent / Math.min(4, this.sparkN)).toLocaleString('en-US');
    drawSpark(ui.spark, this.spark, this.sparkN);
  }
}

function bar(fill: HTMLElement, label: HTMLElement, used: number, cap: number, bytes = false): void {
  const pct = cap > 0 ? Math.min(100, (100 * used) / cap) : 0;
  fill.style.width = `${pct}%`;
  const f = (n: number): string => (bytes ? `${(n / 1024).toFixed(0)} KiB` : n.toLocaleString('en-US'));
  label.textContent = `${f(used)} / ${f(cap)}`;
}

function drawSpark(c: HTMLCanvasElement, v: Float64Array, n: number): void {
  const ctx = c.getContext('2d');
  if (!ctx) return;
  const w = c.width, h = c.height;
  ctx.clearRect(0, 0, w, h);
  let max = 1;
  for (let i = 0; i < v.length; i++) max = Math.max(max, v[i]);
  ctx.strokeStyle = '#4aa3ff';
  ctx.lineWidth = 2;
  ctx.beginPath();
  const start = v.length - n;
  for (let i = start; i < v.length; i++) {
    const x = (i / (v.length - 1)) * (w - 2) + 1;
    const y = h - 2 - (v[i] / max) * (h - 6);
    if (i === start) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.stroke();
  ctx.fillStyle = '#8b95a3';
  ctx.font = '10px sans-serif';
  ctx.fillText(`${Math.round(max).toLocaleString('en-US')}/s`, 4, 11);
}

function setStatus(text: string, cls = ''): void {
  ui.status.textContent = text;
  ui.status.className = `status ${cls}`;
}

/**
 * Without cross-origin isolation a page has no SharedArrayBuffer. With `workers: 0` the
 * engine never shares memory with another thread, and every Atomics operation it uses
 * except wait (which it never calls inline) works on a plain ArrayBuffer, so a plain
 * ArrayBuffer can stand in. Only ever installed when the real one is missing.
 */
function installInlineFallback(): void {
  const g = globalThis as { SharedArrayBuffer?: unknown };
  if (typeof g.SharedArrayBuffer !== 'function') g.SharedArrayBuffer = ArrayBuffer;
}

const panel = new Panel();
(globalThis as { framejobsPanel?: Panel }).framejobsPanel = panel;
panel.boot().catch((err: unknown) => {
  console.error('[framejobs] panel failed', err);
  if (!document.body.dataset.error) document.body.dataset.error = String((err as Error)?.message ?? err);
});

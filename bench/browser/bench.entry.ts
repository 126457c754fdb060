/**
 * The browser bench's page (bundled to dist/bench-web/bench.entry.js, loaded by
 * index.html, driven by run.ts). In one page, side by side: tiny-job throughput of the
 * engine, comlink, workerpool and bare postMessage, passes interleaved; the round trip
 * of one job for each, back to back and after idleness; and the engine's main-thread
 * time for 1,000 COMPUTE_HEAVY jobs per 30 Hz frame, with frame pacing off (the default)
 * and on, in rounds taking turns.
 *
 * Settings come from the URL query (protocol.ts); the report goes to
 * `window.framejobsBench` and `document.body.dataset.done = "1"`, an error to
 * `window.framejobsBenchError` and `document.body.dataset.error`.
 *
 * Nothing here blocks the page thread: every loop gives the event loop back between
 * tasks, and the page never calls Atomics.wait.
 */
import { EngineCore } from '../../engine/core.js';
import { FrameBudgetRun } from './frame-budget.js';
import { ComlinkPeer, EnginePeer, PostMessagePeer, WorkerpoolPeer, type Peer } from './peers.js';
import { ERROR_GLOBAL, PEERS, REPORT_GLOBAL, parseConfigQuery, type PageReport, type PeerName, type PeerReport, type Percentiles, type Verification } from './protocol.js';

/** Seconds of untimed tiny jobs per peer before the first pass. */
const WARM_SECONDS = 0.2;
/** Idleness before each "sleepy" round trip, ms: long past every peer's spin. */
const SLEEPY_IDLE_MS = 3;

const status = document.getElementById('status');
const say = (text: string): void => {
  if (status) status.textContent = text;
};

async function run(): Promise<PageReport> {
  const t0 = performance.now();
  const config = parseConfigQuery(location.search.slice(1));
  const base = new URL('.', import.meta.url);
  say('starting the engine');
  const engine = await EnginePeer.start(config.workers, base);
  const workers = engine.engine.workerCount;
  const peers: Record<PeerName, Peer> = {
    engine,
    comlink: new ComlinkPeer(workers, base),
    workerpool: new WorkerpoolPeer(workers, base),
    postmessage: new PostMessagePeer(workers, base),
  };
  const passes: Record<PeerName, number[]> = { engine: [], comlink: [], workerpool: [], postmessage: [] };
  const rt = {} as Record<PeerName, Percentiles>;
  const sleepy = {} as Record<PeerName, Percentiles>;
  const none = { p50: 0, p99: 0, max: 0 };
  const parts: { -readonly [K in keyof PageReport['engineRoundTripParts']]: PageReport['engineRoundTripParts'][K] } = { backToBack: { pickup: none, delivery: none }, afterIdle: { pickup: none, delivery: none } };
  try {
    for (const name of PEERS) {
      say(`warming up ${name}`);
      await peers[name].throughput(WARM_SECONDS, config.window);
    }
    await engine.bundleThroughput(WARM_SECONDS, config.window);
    const bundled: number[] = [];
    for (let pass = 0; pass < config.passes; pass++) {
      // Each pass starts with another peer, so none always runs first or last.
      for (let k = 0; k < PEERS.length; k++) {
        const name = PEERS[(k + pass) % PEERS.length];
        say(`pass ${pass + 1}: ${name} tiny jobs`);
        passes[name].push(await peers[name].throughput(config.seconds, config.window));
        if (name === 'engine') {
          say(`pass ${pass + 1}: engine tiny jobs in bundles`);
          bundled.push(await engine.bundleThroughput(config.seconds, config.window));
        }
      }
    }
    for (const name of PEERS) {
      say(`${name} round trip`);
      rt[name] = await peers[name].roundTrip(config.roundTrips, 0);
      if (name === 'engine' && engine.parts) parts.backToBack = engine.parts;
      sleepy[name] = await peers[name].roundTrip(config.sleepyRoundTrips, SLEEPY_IDLE_MS);
      if (name === 'engine' && engine.parts) parts.afterIdle = engine.parts;
    }
    for (const name of PEERS) if (name !== 'engine') await peers[name].close();
    // A second engine with frame pacing on (its own workers, asleep while the other's
    // round runs): the two take turns, each round starting with the other one.
    const paced = await EngineCore.start({ ...(config.workers === undefined ? {} : { workers: config.workers }), workerUrl: new URL('engine-worker.entry.js', base), framePacing: true });
    let fb: ReturnType<FrameBudgetRun['finish']>;
    let fbPaced: ReturnType<FrameBudgetRun['finish']>;
    try {
      const runs = [new FrameBudgetRun(engine.engine, config.frames, config.jobsPerFrame), new FrameBudgetRun(paced, config.frames, config.jobsPerFrame)];
      const perRound = Math.ceil(config.frames / config.frameRounds);
      for (let round = 0; round < config.frameRounds; round++) {
        for (let k = 0; k < 2; k++) {
          const which = (k + round) % 2;
          say(`engine frame budget, round ${round + 1}, frame pacing ${which === 1 ? 'on' : 'off'}`);
          await runs[which].round(perRound);
        }
      }
      fb = runs[0].finish();
      fbPaced = runs[1].finish();
    } finally {
      await paced.shutdown({ timeoutMs: 2000 });
    }
    const reports = {} as Record<PeerName, PeerReport>;
    for (const name of PEERS) {
      reports[name] = {
        passes: passes[name],
        perSecond: Math.max(...passes[name]),
        roundTripUs: rt[name],
        sleepyRoundTripUs: sleepy[name],
        verification: peers[name].ledger.verify(),
      };
    }
    return {
      config,
      workers,
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated,
      userAgent: navigator.userAgent,
      peers: reports,
      engineBundled: { passes: bundled, perSecond: Math.max(...bundled), verification: engine.bundleLedger.verify() },
      engineRoundTripParts: parts,
      frameBudgetMs: fb.budget,
      frameBudgetPacedMs: fbPaced.budget,
      frameVerification: sumVerification(fb.verification, fbPaced.verification),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await engine.close();
  }
}

function sumVerification(a: Verification, b: Verification): Verification {
  return { submitted: a.submitted + b.submitted, ok: a.ok + b.ok, missing: a.missing + b.missing, duplicates: a.duplicates + b.duplicates, wrong: a.wrong + b.wrong };
}

const g = globalThis as unknown as Record<string, unknown>;
run().then(
  (report) => {
    g[REPORT_GLOBAL] = report;
    say('done');
    document.body.dataset.done = '1';
  },
  (err: unknown) => {
    const message = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
    g[ERROR_GLOBAL] = message;
    say(`failed: ${message}`);
    document.body.dataset.error = '1';
  },
);

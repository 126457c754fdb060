/**
 * The embedding layer, `framejobs/frame`: frame-tagged requests with apply policies
 * (FrameSync), a fixed-step loop (FixedLoop), and the same-thread kind runner that the
 * deterministic policy falls back on. It depends on the engine, never the reverse.
 */
export { FrameSync, Channel } from './sync.js';
export type { ApplyPolicy, ChannelSpec, FrameBuckets, SyncEngine, SyncMetrics, SyncOptions } from './sync.js';
export { FixedLoop } from './loop.js';
export type { FixedLoopOptions } from './loop.js';
export { KindRunner } from './kind-runner.js';

/** The bench's remote kind: the engine's no-op (a + b), under its own name (every engine has `noop` built in). */
import { noopKind } from '../engine/builtin-kinds.js';
import { defineKind } from '../engine/kind.js';

export const kinds = [defineKind({ name: 'bench.noop', params: noopKind.params, results: noopKind.results, run: noopKind.run })];

/**
 * The game's kind module for the browser (bundled to dist/web/kinds.entry.js). The engine
 * imports it by URL on the page and in every worker, exactly as Node imports game/kinds.js.
 */
export { kinds } from '../game/kinds.js';

/**
 * The frame and chaos modes' kinds: the package's ready-made grid and Rapier kinds
 * (framejobs/kinds/grid, framejobs/kinds/rapier), registered by URL as a user of the
 * package would, over the level's nav grid and its static world (GameWorkload.shared).
 */
import { kinds as gridKinds } from '../../kinds/grid/kinds.js';
import { kinds as rapierKinds } from '../../kinds/rapier/kinds.js';

export const kinds = [...gridKinds, ...rapierKinds];

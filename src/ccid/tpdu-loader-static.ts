/**
 * tpdu-loader.ts for an application that links the TPDU link statically (web/vite.config.ts
 * resolves tpdu-loader.ts to this module): the same function, with the module already there.
 */
import { exchangePps, TpduLink } from './tpdu-link.js';
import type { TpduLinkModule } from './tpdu-loader.js';

export const loadTpduLink = async (): Promise<TpduLinkModule> => ({ exchangePps, TpduLink });

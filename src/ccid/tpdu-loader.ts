/**
 * How `CcidConnection` gets the TPDU link (tpdu-link.ts): a dynamic import, so that a bundler
 * makes it a chunk of its own, fetched at the first connect to a TPDU-level reader and never
 * by an application whose readers all work at APDU level.
 *
 * An application whose usual readers are TPDU readers may resolve this module to
 * tpdu-loader-static.ts instead: the TPDU link is then in the driver's own chunk, with no fetch
 * at connect and no separate file. The web app does (web/vite.config.ts: the HCA pages' usual
 * reader, the Castles EZ100PU, is a TPDU reader).
 */
import type { exchangePps, TpduLink } from './tpdu-link.js';

/** What the connection uses of tpdu-link.ts. */
export interface TpduLinkModule {
  exchangePps: typeof exchangePps;
  TpduLink: typeof TpduLink;
}

export const loadTpduLink = (): Promise<TpduLinkModule> => import('./tpdu-link.js');

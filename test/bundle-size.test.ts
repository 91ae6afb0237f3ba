/**
 * Size budgets (issue: performance goals), measured the way docs/testing.md describes:
 *
 * - The driver core as a typical application ships it (bench/typical-use.ts: open, connect,
 *   transmit, disconnect, close), bundled by esbuild with tree shaking and code splitting,
 *   minified, what loads at start gzipped at level 9. Two chunks of their own load on first
 *   use: the TPDU link (our PPS and T=0 / T=1, at the first connect to a TPDU-level reader such
 *   as the Castles EZ100PU) and the pinpad exchange with its PIN structures. Bounded: what loads
 *   at start (DRIVER_CORE_BUDGET), and what a TPDU-level reader loads in all, start plus the
 *   TPDU link (DRIVER_CORE_TPDU_BUDGET).
 * - What a visit of the unlock page with a real reader (?reader=usb) downloads in the default
 *   language, from a production Vite build (scripts/web-sizes.ts, "real-reader visit"): the
 *   chunks of the other routes (the demo stack, English, the Web Smart Card session, the kiosk
 *   keyboard) are not part of it.
 *
 * GOALS: driver core ≤ 15 000 B, unlock page ≤ 60 000 B. Both budgets below are under their
 * goals, set a little above what the code reaches today so that nothing grows back unnoticed
 * (docs/testing.md, "Sizes"). The TPDU-reader total has no goal of its own; it is bounded so
 * that the split cannot hide growth.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildWebAppForProduction } from './helpers/web-build.js';
import { describe, expect, it } from 'vitest';
import { gzippedBytesWith, measureBundle } from '../bench/bundle-size.js';
import { OTHER_ROUTES, pageSizes, realReaderVisitFiles } from '../scripts/web-sizes.js';

const DRIVER_CORE_BUDGET = 14_885;
const DRIVER_CORE_TPDU_BUDGET = 18_285;
/** Source files of the TPDU link's chunk: none of them may load at start. */
const TPDU_LINK_FILES = ['src/ccid/tpdu-link.ts', 'src/iso7816/t1.ts', 'src/iso7816/t0.ts', 'src/iso7816/pps.ts'];
const UNLOCK_REAL_READER_BUDGET = 59_450;

describe('size budgets', () => {
  it('driver core (typical use, tree-shaken, gzipped): at start, and with a TPDU-level reader', async () => {
    const size = await measureBundle('bench/typical-use.ts');
    expect(size.gzippedBytes).toBeLessThanOrEqual(DRIVER_CORE_BUDGET);
    const withTpdu = gzippedBytesWith(size, 'src/ccid/tpdu-link.ts');
    expect(withTpdu).toBeLessThanOrEqual(DRIVER_CORE_TPDU_BUDGET);
    // The TPDU link is a chunk of its own: the host's PPS, T=0 and T=1 code is in it, loaded on
    // demand, and nowhere in the start files (so the start figure does not count them).
    const tpdu = size.chunks.filter((c) => c.inputs.includes('src/ccid/tpdu-link.ts'));
    expect(tpdu).toHaveLength(1);
    expect(tpdu[0]!.atStart).toBe(false);
    expect(tpdu[0]!.inputs).toEqual(expect.arrayContaining(TPDU_LINK_FILES));
    expect(tpdu[0]!.gzippedBytes).toBeGreaterThan(3000);
    for (const c of size.chunks.filter((c) => c.atStart)) expect(c.inputs.filter((f) => TPDU_LINK_FILES.includes(f)), c.name).toEqual([]);
    expect(withTpdu - size.gzippedBytes).toBeGreaterThanOrEqual(tpdu[0]!.gzippedBytes);
    // So is the pinpad exchange.
    const pinpad = size.chunks.find((c) => c.inputs.includes('src/ccid/pinpad.ts'))!;
    expect(pinpad.atStart).toBe(false);
    expect(pinpad.inputs).toContain('src/ccid/secure.ts');
    expect(pinpad.gzippedBytes).toBeGreaterThan(1000);
    expect(size.lazyGzippedBytes).toBeGreaterThanOrEqual(tpdu[0]!.gzippedBytes + pinpad.gzippedBytes);
  });

  it('unlock page, real-reader visit: everything downloaded, the demo stack not included', async () => {
    const out = mkdtempSync(join(tmpdir(), 'webccid-size-'));
    try {
      await buildWebAppForProduction(out);
      const pages = pageSizes(out);
      const unlock = pages.find((p) => p.page === 'unlock.html')!;
      expect(unlock.realReaderVisit).toBeLessThanOrEqual(UNLOCK_REAL_READER_BUDGET);
      // Demo mode downloads more (the demo stack is on demand), so the measure excludes something real.
      expect(unlock.html + unlock.initial + unlock.lazy - unlock.realReaderVisit).toBeGreaterThan(50_000);
      // Each route left out is a chunk of its own in this build (a renamed chunk would be counted, not lost),
      // and none of them is in the visit.
      const visit = realReaderVisitFiles(out, 'unlock.html').map((f) => f.file);
      const built = readdirSync(join(out, 'assets'));
      for (const route of OTHER_ROUTES) {
        expect(built.filter((f) => route.chunk.test(f)), route.route).not.toEqual([]);
        expect(visit.filter((f) => route.chunk.test(basename(f))), route.route).toEqual([]);
      }
      // The web app links the TPDU link into its driver chunk (web/vite.config.ts: the HCA pages'
      // usual reader is a TPDU reader), so no chunk of its own is fetched at connect.
      expect(built.filter((f) => /^tpdu-link-/.test(f))).toEqual([]);
      expect(visit.filter((f) => /\/ccid-[^/]*\.js$/.test(f))).toHaveLength(1);
      // The driver, the components and the unlock flow are in it.
      expect(visit.some((f) => /\/unlock-[^/]*\.js$/.test(f))).toBe(true);
      // What the driver modules hold for people and tools only stays out of it (web/vite.config.ts
      // keeps those modules out of the driver's chunk): the status words' English descriptions
      // (iso7816/status-text.ts) and the vendor-class readers' names (usb/vendor-class-readers.ts).
      for (const file of visit) {
        const text = readFileSync(join(out, file), 'utf8');
        expect(text, file).not.toContain('more bytes available (GET RESPONSE)');
        expect(text, file).not.toContain('SmartTerminal ST-2xxx');
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});

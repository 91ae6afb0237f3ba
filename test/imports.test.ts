/**
 * The import graph of src/ and web/ (issue 12: no import cycles, no upward imports), and the
 * size of its modules (none in src/ over 600 lines).
 *
 * Every import of every non-test module counts: static, `import type`, `export ... from` and
 * dynamic `import()` (a type-only cycle is still two modules that cannot be understood apart).
 * The imports are read with the TypeScript compiler's pre-processor, not by matching text.
 *
 * LAYERS below is the layer order of docs/architecture.md, bottom first. A layer may import
 * itself and the layers it names in `uses`, and every name there must be a layer listed EARLIER
 * in the table: so the table's order is the layer order, and an import that goes up the table,
 * or sideways to a layer not named, fails with the file and the import.
 *
 * Where the code sits in the table (the import graph, not the protocol stack): the ISO 7816
 * codecs and the T=0 / T=1 engines are pure functions and state machines that the CCID
 * connection drives, so `iso7816` sits below `ccid`; the APDU seam (`card`: CardChannel and the
 * trace tools) sits between them, as both CCID and the Web Smart Card backend implement it.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Layer {
  name: string;
  /** Files (`x.ts`) or folders (`dir/`), relative to the repository. */
  paths: string[];
  /** The layers this one may import, each listed earlier in LAYERS. */
  uses: string[];
}

// prettier-ignore
const LAYERS: Layer[] = [
  // Bytes, the error classes and the union of their codes, the FIFO lock: everything may use them.
  { name: 'base',             paths: ['src/bytes.ts', 'src/errors.ts', 'src/error-codes.ts', 'src/mutex.ts'], uses: [] },
  // The certificate library's types and loader (certificate parsing on demand).
  { name: 'x509',             paths: ['src/x509.ts'],            uses: [] },
  // USB seam: UsbDeviceLike, configuration descriptors, which devices may be CCID.
  { name: 'usb',              paths: ['src/usb/'],               uses: ['base'] },
  // ISO/IEC 7816: ATR, rates, PPS, parameters, timing, T=0, T=1, APDU, status words. Pure code.
  { name: 'iso7816',          paths: ['src/iso7816/'],           uses: ['base'] },
  // The English sentences of the driver's errors, outside the driver core (the driver console reads them alone).
  { name: 'error-text',       paths: ['src/error-text.ts'],      uses: ['base', 'iso7816'] },
  // APDU seam: CardChannel (transmit an APDU, get data + SW1 SW2), traces and their replay.
  { name: 'card',             paths: ['src/card/'],              uses: ['base', 'iso7816'] },
  // The CCID driver: descriptors, messages, transport, reader, connection, quirks, filters.
  { name: 'ccid',             paths: ['src/ccid/'],              uses: ['base', 'usb', 'iso7816', 'card'] },
  // The other CardChannel backend: the Web Smart Card API (PC/SC).
  { name: 'smartcard',        paths: ['src/smartcard/'],         uses: ['base', 'iso7816', 'card'] },
  // The root entry `webccid`.
  { name: 'driver-entry',     paths: ['src/index.ts'],           uses: ['base', 'usb', 'iso7816', 'card', 'ccid'] },
  // Card operations on a CardChannel: the HCA profile, the NHI card.
  { name: 'hca',              paths: ['src/hca/'],               uses: ['base', 'x509', 'iso7816', 'card'] },
  { name: 'nhi',              paths: ['src/nhi/'],               uses: ['base', 'iso7816', 'card', 'hca'] },
  // The binding verifier (servers, edge runtimes): knows the HCA profile's OIDs.
  { name: 'server',           paths: ['src/server/'],            uses: ['base', 'x509', 'hca'] },
  // The probe engine (field kit, `webccid probe`).
  { name: 'probe',            paths: ['src/probe/'],             uses: ['base', 'x509', 'usb', 'iso7816', 'card', 'ccid', 'driver-entry', 'hca', 'nhi'] },
  // Virtual reader and cards: a backend for demos and tests. Nothing in production imports it.
  { name: 'virtual',          paths: ['src/virtual/'],           uses: ['base', 'x509', 'usb', 'iso7816', 'card', 'ccid', 'smartcard', 'driver-entry', 'hca', 'nhi', 'server'] },
  // Card sessions (USB, Web Smart Card, the automatic choice), no UI.
  { name: 'session',          paths: ['src/session/'],           uses: ['base', 'usb', 'iso7816', 'card', 'ccid', 'smartcard', 'driver-entry', 'hca', 'nhi'] },
  // Lit components: use the driver through its entry and the sessions, not its internals.
  { name: 'components',       paths: ['src/components/'],        uses: ['base', 'x509', 'card', 'driver-entry', 'hca', 'nhi', 'server', 'session'] },
  // webccid/error-text: the driver's sentences and the tables of the layers above (src/hca/,
  // src/session/, src/components/error-text.ts) as one table, outside the driver core and the pages.
  { name: 'error-text-all',   paths: ['src/error-text-all.ts'],  uses: ['base', 'error-text', 'hca', 'session', 'components'] },
  // Node: the `usb` package backend and the command line.
  { name: 'node',             paths: ['src/node/'],              uses: ['base', 'usb', 'iso7816', 'error-text', 'error-text-all', 'card', 'ccid', 'driver-entry', 'hca', 'nhi', 'probe'] },
  // The reference server (Node): HTTP, storage; its demo uses a virtual card.
  { name: 'reference-server', paths: ['src/reference-server/'],  uses: ['base', 'x509', 'server', 'virtual'] },
  // The web app's pages.
  { name: 'web',              paths: ['web/'],                   uses: ['base', 'x509', 'usb', 'iso7816', 'error-text', 'error-text-all', 'card', 'driver-entry', 'hca', 'nhi', 'server', 'probe', 'virtual', 'session', 'components'] },
  // The web app's build (Vite config: CSP, the reference server as a dev middleware).
  { name: 'web-build',        paths: ['web/vite.config.ts'],     uses: ['web', 'reference-server'] },
];

/**
 * Excused violations: none. An entry would be one exact import (`from -> to`) or one exact cycle,
 * with the reason beside it; the test also fails when an excused one no longer exists.
 */
const KNOWN_LAYER_VIOLATIONS: string[] = [];
const KNOWN_CYCLES: string[][] = [];

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Module → the repository modules it imports (relative specifiers only; packages are not layers). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('web')]) {
    const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    const targets = new Set<string>();
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = relative(ROOT, resolve(join(ROOT, dirname(file)), fileName)).split('\\').join('/');
      if (target.endsWith('.js')) targets.add(target.replace(/\.js$/, '.ts'));
      else if (target.endsWith('.ts')) targets.add(target);
      // other assets (CSS, JSON) are not modules of a layer
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

function layerOf(file: string): Layer | undefined {
  // The most specific path wins (web/vite.config.ts before web/).
  let best: Layer | undefined;
  let bestLength = -1;
  for (const layer of LAYERS) {
    for (const p of layer.paths) {
      const hit = p.endsWith('/') ? file.startsWith(p) : file === p;
      if (hit && p.length > bestLength) [best, bestLength] = [layer, p.length];
    }
  }
  return best;
}

/** Strongly connected components of more than one module (Tarjan), each sorted. */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

describe('import graph of src/ and web/', () => {
  const graph = importGraph();

  it('the layer table is ordered: a layer uses only layers listed before it', () => {
    const seen = new Set<string>();
    const wrong: string[] = [];
    for (const layer of LAYERS) {
      for (const u of layer.uses) if (!seen.has(u)) wrong.push(`${layer.name} uses ${u}, which is not below it`);
      seen.add(layer.name);
    }
    expect(wrong).toEqual([]);
  });

  it('every module of src/ and web/ belongs to a layer', () => {
    expect([...graph.keys()].filter((f) => !layerOf(f))).toEqual([]);
  });

  it('every import resolves to a module of the repository', () => {
    const missing = [...graph].flatMap(([from, tos]) => tos.filter((to) => !graph.has(to)).map((to) => `${from} -> ${to}`));
    expect(missing).toEqual([]);
  });

  it('no upward or sideways import across layers', () => {
    const violations: string[] = [];
    for (const [from, tos] of graph) {
      const a = layerOf(from)!;
      for (const to of tos) {
        const b = layerOf(to);
        if (!b || a === b || a.uses.includes(b.name)) continue;
        violations.push(`${from} -> ${to}`);
      }
    }
    expect(violations.filter((v) => !KNOWN_LAYER_VIOLATIONS.includes(v))).toEqual([]);
    // An excused import that no longer exists must leave the list.
    expect(KNOWN_LAYER_VIOLATIONS.filter((v) => !violations.includes(v))).toEqual([]);
  });

  it('no import cycles', () => {
    const known = KNOWN_CYCLES.map((c) => [...c].sort().join(' <-> '));
    const found = cycles(graph).map((c) => c.join(' <-> '));
    expect(found.filter((c) => !known.includes(c))).toEqual([]);
    expect(known.filter((c) => !found.includes(c))).toEqual([]);
  });

  it('no module of src/ is over 600 lines (a file a newcomer can read through; split by concern)', () => {
    const long = sourceFiles('src')
      .map((f) => [f, readFileSync(join(ROOT, f), 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 600)
      .map(([f, lines]) => `${f}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('the cycle finder sees a cycle and an upward import (self-check on a small graph)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(layerOf('src/usb/device.ts')?.name).toBe('usb');
    expect(layerOf('web/vite.config.ts')?.name).toBe('web-build');
    expect(layerOf('src/ccid/quirks.ts')!.uses).not.toContain('components');
  });
});

/**
 * Prints the gzipped size of each page of the built web app (dist-web/, made by `npm run build`):
 * the HTML, what the page loads at once (its scripts, module preloads and style sheets, and their
 * static imports), and what it may load later (dynamic imports: the English strings, the
 * certificate library, the components). Each file is gzipped on its own at level 9, as a server
 * would send it.
 *
 * "real-reader visit" is what a visit with a real reader (?reader=usb) downloads on desktop Chrome
 * (WebUSB), in the default language, outside kiosk mode: the page, what it loads at once, and
 * every chunk it may fetch later on that route, with what those chunks import. Not counted: the
 * chunks of the other routes (OTHER_ROUTES: demo mode, English, the Web Smart Card API, kiosk
 * mode, a profile given by the page) and what only they need. Counted although a given visit may not fetch them: the
 * driver's pinpad code (a reader with a PIN pad) and, on the bind page, the certificate library
 * (when a flow reads a certificate). So the figure is what the visit downloads at most.
 *
 *   npm run sizes                # after npm run build
 *   npx tsx scripts/web-sizes.ts [dist-dir] [--json]
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** The output directory being measured (Vite's preload map names files relative to it). */
let dist = '';


const gzCache = new Map<string, number>();
function gz(file: string): number {
  let n = gzCache.get(file);
  if (n === undefined) {
    n = gzipSync(readFileSync(file), { level: 9 }).length;
    gzCache.set(file, n);
  }
  return n;
}

/** Files a built page refers to in its HTML (scripts, module preloads, style sheets) of this origin. */
function htmlRefs(htmlFile: string): string[] {
  const text = readFileSync(htmlFile, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"[^>]*>/g)) {
    const url = m[1]!;
    if (/^[a-z]+:|^\/\//i.test(url)) continue;
    if (!/\.(?:js|css)$/.test(url)) continue;
    out.push(resolve(dirname(htmlFile), url));
  }
  return out;
}

/** Static and dynamic imports of a built JS chunk (relative specifiers only), and what each dynamic import preloads. */
function jsRefs(file: string): { static: string[]; dynamic: string[]; deps: Map<string, string[]> } {
  const text = readFileSync(file, 'utf8');
  const dir = dirname(file);
  const stat = new Set<string>();
  const dyn = new Set<string>();
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+\.js)["']/g)) stat.add(resolve(dir, m[1]!));
  for (const m of text.matchAll(/\bimport\(\s*["'`](\.{1,2}\/[^"'`]+\.js)["'`]\s*\)/g)) dyn.add(resolve(dir, m[1]!));
  // Vite's preload map lists the files a dynamic import needs (its chunks and their style sheets):
  // relative to the output root (assets/…) or, with a relative base, to this chunk (./…). An entry
  // of the relative map belongs to the import() it is passed with: it is followed only with that
  // import, so the files of another route's import stay out with that import.
  for (const m of text.matchAll(/["'](assets\/[^"']+\.(?:js|css))["']/g)) dyn.add(resolve(dist, m[1]!));
  const map = /__vite__mapDeps=\([^]*?m\.f=\[([^\]]*)\]/.exec(text)?.[1]?.match(/\.\/[^"'`]+/g) ?? [];
  const deps = new Map<string, string[]>();
  for (const m of text.matchAll(/\bimport\(\s*["'`](\.{1,2}\/[^"'`]+\.js)["'`]\s*\)(?:(?!\bimport\()[^])*?__vite__mapDeps\(\[([\d,]*)\]\)/g)) {
    const files = m[2]!.split(',').filter(Boolean).map((i) => map[Number(i)]).filter((f): f is string => f !== undefined);
    deps.set(resolve(dir, m[1]!), files.map((f) => resolve(dir, f)));
  }
  return { static: [...stat], dynamic: [...dyn], deps };
}

function closure(start: string[]): { initial: Set<string>; lazy: Set<string> } {
  const initial = new Set<string>();
  const pending = [...start];
  const dynamicSeeds: string[] = [];
  while (pending.length) {
    const f = pending.pop()!;
    if (initial.has(f) || !existsSync(f)) continue;
    initial.add(f);
    if (f.endsWith('.js')) {
      const r = jsRefs(f);
      pending.push(...r.static);
      dynamicSeeds.push(...r.dynamic, ...[...r.deps.values()].flat());
    }
  }
  const lazy = new Set<string>();
  const queue = [...dynamicSeeds];
  while (queue.length) {
    const f = queue.pop()!;
    if (initial.has(f) || lazy.has(f) || !existsSync(f)) continue;
    lazy.add(f);
    if (f.endsWith('.js')) {
      const r = jsRefs(f);
      queue.push(...r.static, ...r.dynamic, ...[...r.deps.values()].flat());
    }
  }
  return { initial, lazy };
}

/**
 * The chunks of the other routes, which a real-reader visit (desktop Chrome, WebUSB, default
 * language, not kiosk) never fetches, by the module each chunk is named after (Vite names a
 * dynamically imported chunk after its module), with the place that imports it:
 */
export const OTHER_ROUTES: ReadonlyArray<{ chunk: RegExp; route: string }> = [
  // web/app/hardware.ts: the virtual reader and card, test PKI, certificate library, demo panel.
  { chunk: /^demo-(env|panel)-/, route: 'demo mode' },
  // src/components/locale.ts and web/app/i18n.ts: the English templates, the shell's English
  // words (words-en) and each page's (unlock-words-en, bind-words-en, ...).
  { chunk: /^(?:en|(?:[a-z]+-)*words-en)-/, route: 'English' },
  // web/app/hardware.ts: the automatic choice with the Web Smart Card session, channel and watcher.
  { chunk: /^auto-session-/, route: 'the Web Smart Card API (navigator.smartCard: an Isolated Web App, ChromeOS)' },
  // web/app/elements.ts: the on-screen keyboard.
  { chunk: /^hca-pin-pad-/, route: 'kiosk mode' },
  // src/hca/card-base.ts: the check of a profile the page gives the flow components (`checkProfile`).
  // Only demo mode gives one (the virtual card's); with a real reader the card is opened with the
  // library's own candidates, which the tests check.
  { chunk: /^check-profile-/, route: 'a profile given by the page (demo mode)' },
];

const otherRoute = (f: string) => f.endsWith('.js') && OTHER_ROUTES.some((r) => r.chunk.test(basename(f)));

/** Files a real-reader visit in the default language may download (see the module comment). */
function realReaderVisit(htmlFile: string): Set<string> {
  const { initial } = closure(htmlRefs(htmlFile));
  const out = new Set(initial);
  // A dynamic import of this route brings what Vite preloads with it (its chunks' style sheets).
  const dynamicOf = (f: string) => {
    const r = jsRefs(f);
    return [...r.dynamic, ...[...r.deps].filter(([target]) => !otherRoute(target)).flatMap(([, files]) => files)];
  };
  const queue = [...initial].filter((f) => f.endsWith('.js')).flatMap(dynamicOf);
  while (queue.length) {
    const f = queue.pop()!;
    if (out.has(f) || otherRoute(f) || !existsSync(f)) continue;
    out.add(f);
    if (f.endsWith('.js')) queue.push(...jsRefs(f).static, ...dynamicOf(f));
  }
  return out;
}

/** The files (with their gzipped sizes) a real-reader visit of `page` downloads, largest first. */
export function realReaderVisitFiles(distDir: string, page: string): { file: string; gz: number }[] {
  dist = resolve(distDir);
  const file = join(dist, page);
  return [file, ...realReaderVisit(file)].map((f) => ({ file: relative(dist, f), gz: gz(f) })).sort((a, b) => b.gz - a.gz);
}

export function pageSizes(distDir: string) {
  dist = resolve(distDir);
  return readdirSync(distDir)
    .filter((f) => f.endsWith('.html'))
    .sort()
    .map((name) => {
      const file = join(distDir, name);
      const { initial, lazy } = closure(htmlRefs(file));
      return {
        page: name,
        html: gz(file),
        initial: sum(initial),
        initialFiles: initial.size,
        lazy: sum(lazy),
        lazyFiles: lazy.size,
        realReaderVisit: gz(file) + sum(realReaderVisit(file)),
      };
    });
}

const sum = (files: Iterable<string>) => [...files].reduce((n, f) => n + gz(f), 0);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

function main(): void {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const dir = resolve(args.find((a) => !a.startsWith('--')) ?? 'dist-web');
  if (!existsSync(dir)) {
    console.error(`No ${relative(process.cwd(), dir) || dir}: run "npm run build" first.`);
    process.exit(1);
  }
  const rows = pageSizes(dir);

  if (json) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    const header = ['page', 'html', 'loaded at once', 'on demand', 'total', 'real-reader visit'];
    const lines = rows.map((r) => [
      r.page,
      kb(r.html),
      `${kb(r.initial)} (${r.initialFiles} files)`,
      `${kb(r.lazy)} (${r.lazyFiles} files)`,
      kb(r.html + r.initial + r.lazy),
      kb(r.realReaderVisit),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(`Gzipped sizes (level 9, each file alone) of ${relative(process.cwd(), dir) || dir}/:`);
    console.log(fmt(header));
    for (const l of lines) console.log(fmt(l));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

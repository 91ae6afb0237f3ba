/**
 * Size of a browser bundle of an entry point, minified and gzipped, as an application bundler
 * would ship it: esbuild bundles with tree shaking and code splitting (dynamic imports, such as
 * the pinpad exchange and the TPDU link, become chunks loaded when used). `gzippedBytes` counts
 * what loads at start: the entry chunk and the chunks it imports statically, each gzipped on its
 * own at level 9 (as a server sends them); `lazyGzippedBytes` the chunks loaded on demand.
 * `chunks` lists every chunk with the source files in it; `gzippedBytesWith` adds up what loads
 * once a given module is first imported (the start files, its chunk and that chunk's imports).
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export interface BundleChunk {
  /** The chunk's name in the bundle (e.g. `tpdu-link-XXXXXXXX.js`). */
  name: string;
  minifiedBytes: number;
  gzippedBytes: number;
  /** Loaded at start (the entry or one of its static imports), else on demand. */
  atStart: boolean;
  /** Source files with code in this chunk, relative to the repository (`src/ccid/tpdu-link.ts`). */
  inputs: string[];
  /** Chunks this one imports statically, by name. */
  imports: string[];
}

export interface BundleSize {
  entry: string;
  minifiedBytes: number;
  gzippedBytes: number;
  lazyGzippedBytes: number;
  chunks: BundleChunk[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = '/webccid-bundle-size'; // nothing is written (write: false); esbuild needs a directory to name chunks

export async function measureBundle(entry: string): Promise<BundleSize> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: OUT,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const name = (path: string) => path.slice(path.lastIndexOf('/') + 1);
  const outputs = new Map(Object.entries(result.metafile!.outputs).map(([k, v]) => [name(k), v]));
  const entryName = [...outputs].find(([, o]) => o.entryPoint !== undefined)![0];
  const atStart = new Set<string>();
  const pending = [entryName];
  while (pending.length) {
    const n = pending.pop()!;
    if (atStart.has(n)) continue;
    atStart.add(n);
    for (const i of outputs.get(n)!.imports) if (i.kind === 'import-statement' && !i.external) pending.push(name(i.path));
  }
  const chunks: BundleChunk[] = result.outputFiles
    .filter((f) => f.path.endsWith('.js'))
    .map((f) => {
      const n = name(f.path);
      const o = outputs.get(n)!;
      return {
        name: n,
        minifiedBytes: f.contents.length,
        gzippedBytes: gzipSync(f.contents, { level: 9 }).length,
        atStart: atStart.has(n),
        inputs: Object.entries(o.inputs)
          .filter(([, v]) => v.bytesInOutput > 0)
          .map(([k]) => k),
        imports: o.imports.filter((i) => i.kind === 'import-statement' && !i.external).map((i) => name(i.path)),
      };
    });
  const sum = (cs: BundleChunk[], key: 'minifiedBytes' | 'gzippedBytes') => cs.reduce((n, c) => n + c[key], 0);
  const start = chunks.filter((c) => c.atStart);
  return {
    entry,
    minifiedBytes: sum(start, 'minifiedBytes'),
    gzippedBytes: sum(start, 'gzippedBytes'),
    lazyGzippedBytes: sum(
      chunks.filter((c) => !c.atStart),
      'gzippedBytes',
    ),
    chunks,
  };
}

/**
 * Gzipped bytes loaded once `module` (a source file, e.g. `src/ccid/tpdu-link.ts`) has been
 * imported: the start files, the chunk holding that module and the chunks it imports statically.
 */
export function gzippedBytesWith(size: BundleSize, module: string): number {
  const byName = new Map(size.chunks.map((c) => [c.name, c]));
  const home = size.chunks.find((c) => c.inputs.includes(module));
  if (!home) throw new Error(`${module} is not in the bundle of ${size.entry}`);
  const loaded = new Set(size.chunks.filter((c) => c.atStart).map((c) => c.name));
  const pending = [home.name];
  while (pending.length) {
    const n = pending.pop()!;
    if (loaded.has(n)) continue;
    loaded.add(n);
    pending.push(...byName.get(n)!.imports);
  }
  return [...loaded].reduce((n, c) => n + byName.get(c)!.gzippedBytes, 0);
}

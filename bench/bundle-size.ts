/**
 * Size of a browser bundle of an entry point, minified and gzipped, as an application bundler
 * would ship it: esbuild bundles with tree shaking and code splitting (dynamic imports, such as
 * the pinpad exchange, become chunks loaded when used). `gzippedBytes` counts what loads
 * at start: the entry chunk and the chunks it imports statically, each gzipped on its own at
 * level 9 (as a server sends them); `lazyGzippedBytes` the chunks loaded on demand.
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export interface BundleSize {
  entry: string;
  minifiedBytes: number;
  gzippedBytes: number;
  lazyGzippedBytes: number;
}

export async function measureBundle(entry: string): Promise<BundleSize> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../${entry}`, import.meta.url))],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/webccid-bundle-size', // nothing is written (write: false); esbuild needs a directory to name chunks
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const files = new Map(result.outputFiles.map((f) => [f.path, f.contents]));
  const outputs = result.metafile!.outputs;
  const key = (path: string) => Object.keys(outputs).find((k) => path.endsWith(k.replace(/^.*?webccid-bundle-size/, '')))!;
  const entryPath = [...files.keys()].find((p) => outputs[key(p)]?.entryPoint !== undefined)!;
  const initial = new Set<string>();
  const pending = [key(entryPath)];
  while (pending.length) {
    const k = pending.pop()!;
    if (initial.has(k)) continue;
    initial.add(k);
    for (const i of outputs[k]!.imports) if (i.kind === 'import-statement' && !i.external) pending.push(i.path);
  }
  let minifiedBytes = 0;
  let gzippedBytes = 0;
  let lazyGzippedBytes = 0;
  for (const [path, code] of files) {
    if (!path.endsWith('.js')) continue;
    const gz = gzipSync(code, { level: 9 }).length;
    if (initial.has(key(path))) {
      minifiedBytes += code.length;
      gzippedBytes += gz;
    } else lazyGzippedBytes += gz;
  }
  return { entry, minifiedBytes, gzippedBytes, lazyGzippedBytes };
}

/**
 * Size of the driver bundle for the browser (the `webccid` entry point),
 * minified and gzipped, as an application bundler would ship it.
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

export interface BundleSize {
  entry: string;
  minifiedBytes: number;
  gzippedBytes: number;
}

export async function measureBundle(entry: string): Promise<BundleSize> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../${entry}`, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  return { entry, minifiedBytes: code.length, gzippedBytes: gzipSync(code, { level: 9 }).length };
}

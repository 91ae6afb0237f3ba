/**
 * A production build of the web app (`web/vite.config.ts`) into `outDir`, as `npm run build:web`
 * makes it, for the tests that measure or serve what a visitor downloads.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export async function buildWebAppForProduction(outDir: string): Promise<void> {
  // Vitest runs with NODE_ENV=test, which would make Vite pick development builds of Lit.
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'production';
  try {
    await build({
      mode: 'production',
      configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)),
      logLevel: 'silent',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    process.env['NODE_ENV'] = nodeEnv;
  }
}

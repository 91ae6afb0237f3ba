import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceServerPlugin } from '../src/reference-server/index.js';
import { CSP_META, SECURITY_HEADERS } from './csp.js';

const docsDir = fileURLToPath(new URL('../docs/', import.meta.url));

/**
 * Serves the repository's docs/*.md at ./docs/ (as plain text), so the page's
 * "Deployment guide" links work in `npm start`, and copies them into the build.
 */
function serveDocs(): Plugin {
  return {
    name: 'webccid-docs',
    configureServer(server) {
      server.middlewares.use('/docs', (req, res, next) => {
        const name = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').replace(/^\/+/, '');
        if (!/^[\w.-]+\.md$/.test(name)) return next();
        const file = join(docsDir, name);
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        if (!existsSync(file)) {
          res.statusCode = 404;
          res.end(`docs/${name} is not written yet.\n`);
          return;
        }
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      if (!existsSync(docsDir)) return;
      for (const name of readdirSync(docsDir)) {
        if (name.endsWith('.md')) this.emitFile({ type: 'asset', fileName: `docs/${name}`, source: readFileSync(join(docsDir, name)) });
      }
    },
  };
}

/**
 * Puts the Content-Security-Policy (web/csp.ts) into every built page as a <meta> tag. Build
 * only: the dev server injects inline styles for hot reloading, which the policy forbids.
 */
function contentSecurityPolicy(): Plugin {
  return {
    name: 'webccid-csp',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP_META }, injectTo: 'head-prepend' }],
    },
  };
}

/** The pages of the multi-page app (web/*.html). */
const pages = ['index', 'unlock', 'change-pin', 'bind', 'nhi', 'probe', 'driver'];
const page = (name: string) => fileURLToPath(new URL(`./${name}.html`, import.meta.url));

// The web app. `npm start` serves it together with the reference server (one
// process); the driver is imported from ../src. The reference server's
// database lives in .webccid/ (WEBCCID_DB overrides the path).
const dbPath = process.env['WEBCCID_DB'] ?? fileURLToPath(new URL('../.webccid/reference-server.sqlite', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [serveDocs(), referenceServerPlugin({ dbPath }), contentSecurityPolicy()],
  server: { port: 5173, strictPort: false },
  // `vite preview --config web/vite.config.ts` serves the build with the production headers.
  preview: { headers: { ...SECURITY_HEADERS } },
  build: {
    outDir: fileURLToPath(new URL('../dist-web', import.meta.url)),
    emptyOutDir: true,
    // No data: URLs for assets and no inline module preload polyfill: everything is a file of the origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    rollupOptions: { input: Object.fromEntries(pages.map((name) => [name, page(name)])) },
  },
});

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
// database and key file live in .webccid/ (WEBCCID_DB overrides the database
// path; the key file sits beside it), which the dev server never serves.
const dbPath = process.env['WEBCCID_DB'] ?? fileURLToPath(new URL('../.webccid/reference-server.sqlite', import.meta.url));
const inRepo = (dir: string) => fileURLToPath(new URL(`../${dir}`, import.meta.url));

/**
 * What the dev server may read from disk: the page (web/, the root), the driver's sources and the
 * dependencies; not the rest of the repository (.webccid/ with the database and its key, .git,
 * ...). Vite's defaults (.env, keys and certificates, .git) stay denied, plus any SQLite file.
 */
const fileAccess = {
  allow: [inRepo('web'), inRepo('src'), inRepo('node_modules')],
  deny: ['.env', '.env.*', '*.{crt,pem,key,p12,pfx,cer,der}', '.npmrc', '.yarnrc.yml', '**/.git/**', '**/.webccid/**', '*.{sqlite,sqlite3,db}', '*.{sqlite,sqlite3,db}-*'],
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // The dependency pre-bundle cache lives outside node_modules (git-ignored), so that an `npm ci`
  // run beside a running `npm start` does not delete it under the dev server (pages then stayed
  // blank with "504 (Outdated Optimize Dep)" until a restart).
  cacheDir: fileURLToPath(new URL('../.vite-cache', import.meta.url)),
  // Every dependency the pages load, pre-bundled at start-up: none is discovered later on a page
  // (a late discovery re-bundles and reloads the pages already open). x509 and reflect-metadata
  // are imported dynamically (src/x509.ts).
  optimizeDeps: {
    include: ['lit', 'lit/decorators.js', 'lit/directives/live.js', '@lit/localize', 'reflect-metadata', '@peculiar/x509'],
  },
  plugins: [serveDocs(), referenceServerPlugin({ dbPath }), contentSecurityPolicy()],
  // No CORS: Vite's default grants it to every localhost origin, so a page on
  // http://localhost:3000 could read the API's answers (a PUK). The page and the API are one origin.
  server: { port: 5173, strictPort: false, cors: false, fs: fileAccess },
  // `vite preview --config web/vite.config.ts` serves the build with the production headers.
  preview: { headers: { ...SECURITY_HEADERS }, cors: false },
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

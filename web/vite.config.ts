import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceServerPlugin } from '../src/reference-server/index.js';
import { CSP_META, SECURITY_HEADERS } from './csp.js';
import { minifyTemplates } from './minify-templates.js';
import { localizeIds } from './localize-ids.js';

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

/**
 * A smaller stand-in for Vite's preload helper (`__vitePreload`, which every dynamic import goes
 * through: it loads what the imported chunk needs, its chunks and style sheets, alongside it).
 * Vite's own helper, about 1.3 KB gzipped in the `app` chunk every page loads, also feature-tests
 * `modulepreload`, reads a CSP nonce, and turns a failed preload into a `vite:preloadError` event;
 * the pages need none of that: they run in browsers with WebUSB or the Web Smart Card API (all
 * support `modulepreload`), their policy allows the origin's style sheets without a nonce
 * (web/csp.ts), and nothing listens for the event (a failed preload fails the import, as it does
 * with Vite's helper when nobody handles the event). Kept: each file is asked for once, none
 * that the page already links, style sheets are in before the import resolves.
 */
function smallPreloadHelper(): Plugin {
  const id = '\0vite/preload-helper.js';
  const code = `const asked = new Map();
export const __vitePreload = (load, deps, importerUrl) => {
  if (!deps || deps.length === 0) return load();
  const linked = new Set(Array.from(document.getElementsByTagName('link'), (l) => l.href));
  return Promise.all(
    deps.map((dep) => {
      const href = new URL(dep, importerUrl).href;
      if (linked.has(href)) return undefined;
      if (!asked.has(href)) {
        const link = document.createElement('link');
        const css = href.endsWith('.css');
        link.rel = css ? 'stylesheet' : 'modulepreload';
        link.crossOrigin = '';
        link.href = href;
        asked.set(href, css ? new Promise((ok, fail) => {
          link.onload = ok;
          link.onerror = () => fail(new Error('Unable to preload CSS for ' + href));
        }) : undefined);
        document.head.appendChild(link);
      }
      return asked.get(href);
    }),
  ).then(load);
};`;
  return {
    name: 'webccid-small-preload-helper',
    apply: 'build',
    enforce: 'pre',
    resolveId: (source) => (source === id ? id : null),
    load: (loaded) => (loaded === id ? code : null),
  };
}

/** The pages of the multi-page app (web/*.html). */
const pages = ['index', 'unlock', 'change-pin', 'bind', 'nhi', 'probe', 'driver'];
const page = (name: string) => fileURLToPath(new URL(`./${name}.html`, import.meta.url));

/** A module id under one of `dirs` (posix or Windows separators), whose file name matches `files`. */
const under = (dir: string, files: string) => new RegExp(`[\\\\/]${dir.replace(/\//g, '[\\\\/]')}[\\\\/](?:${files})\\.[jt]s$`);

/**
 * The shared chunks, by what loads them together. Left alone, the bundler makes one chunk per set
 * of pages sharing modules, so a flow page fetched ten small files, each gzipped alone (and the
 * preload helper's chunk carried Lit and the errors). Grouped here, highest priority first:
 * - `app`: Lit (its directives apart), the preload helper and the errors: every page, the driver console too;
 * - `shell`: the localisation runtime, the page shell and its words: every page but the console;
 * - `ccid`: the driver core: every flow page, the NHI page, the field kit and the driver console;
 * - `flow`: the card session, the shared messages, the reader status and steps: every flow page;
 * - `pin-flow`: `HcaCardBase`, the profile's values, the PIN flows' shared code: the HCA flow pages.
 * A group takes the modules it names (statically imported by some page: `$initial`) and what they
 * import that no group of a higher priority took, and every page using one of them loads all of
 * it: so a group names only modules its pages all need. `HcaCard` (hca/card.ts) and the profile
 * with its evidence (hca/profile.ts) stay out of `pin-flow` (the unlock page uses neither); the
 * driver modules loaded on demand (the pinpad) or only by the virtual card and the field kit stay
 * out of `ccid`: a new such module must be added to its exclusions. Each page's own code and the
 * route-specific chunks (demo mode, English, the Web Smart Card API, kiosk mode, the pinpad) keep
 * the bundler's own split (test/browser/visit-size.test.ts and test/bundle-size.test.ts check it).
 */
/**
 * Lit's directives (the driver console's `live()`): they stay with the pages that import them, out
 * of the `app` chunk every page loads (a group takes what its modules import, so `lit/directives/`
 * is left out too).
 */
const LIT_DIRECTIVES = /[\\/](?:lit|lit-html)[\\/](?:directive|directive-helpers|async-directive|directives[\\/][\w-]+)\.js$/;

const CHUNK_GROUPS = [
  {
    name: 'app',
    priority: 6,
    tags: ['$initial' as const],
    test: (id: string) =>
      (/[\\/]node_modules[\\/](?:lit|lit-html|lit-element|@lit[\\/]reactive-element)[\\/]|vite[\\/]preload-helper/.test(id) &&
        !LIT_DIRECTIVES.test(id)) ||
      under('src', 'errors').test(id),
  },
  {
    name: 'shell',
    priority: 5,
    tags: ['$initial' as const],
    test: (id: string) =>
      /[\\/]node_modules[\\/]@lit[\\/]localize[\\/]/.test(id) ||
      under('src/components', 'locale').test(id) ||
      under('web/app', 'shell|i18n|words-zh').test(id),
  },
  {
    name: 'ccid',
    priority: 4,
    tags: ['$initial' as const],
    test: (id: string) =>
      /[\\/]src[\\/](?:ccid|iso7816|usb)[\\/][\w-]+\.ts$|[\\/]src[\\/](?:bytes|mutex)\.ts$/.test(id) &&
      // Not the pinpad (loaded on its first use), the virtual card's T=1 side and T=1 blocks as
      // values (the host's T=1 builds its own), the status words'
      // English descriptions (the driver console, the field kit), the field kit's device list, the
      // reader's side of the CCID messages, of PC_to_RDR_Secure and of the configuration descriptor
      // (the virtual reader and pinpad, the driver console).
      !under('src/ccid', 'pinpad|secure|secure-device|messages-device').test(id) &&
      !under('src/iso7816', 't1-card|t1-block|status-text').test(id) &&
      !under('src/usb', 'candidates|config-descriptor-encode').test(id),
  },
  {
    name: 'pin-flow',
    priority: 2,
    tags: ['$initial' as const],
    test: (id: string) =>
      under('src/hca', 'card-base|format|card-pin-guard|errors|pin-guard|read-binary|pinpad|apdu|card-options|profile-data').test(id) ||
      under('src/components/shared', 'input-messages|pin-entry|flow-common|kiosk-idle|pin-flow|pin-flow-styles').test(id),
  },
  {
    name: 'flow',
    priority: 3,
    tags: ['$initial' as const],
    test: (id: string) =>
      under('web/app', 'elements|hardware').test(id) ||
      under('src/session', 'card-session').test(id) ||
      under('src/components/shared', 'messages|pin-messages|error-parts|error-view|icons|styles|card-session-controller').test(id) ||
      under('src/components/hca-reader-status', 'hca-reader-status|styles').test(id) ||
      under('src/components/hca-steps', 'hca-steps|styles').test(id),
  },
];

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
  plugins: [serveDocs(), referenceServerPlugin({ dbPath }), contentSecurityPolicy(), smallPreloadHelper(), minifyTemplates(), localizeIds(inRepo('src/components'))],
  // The TPDU link (our PPS, T=0 and T=1) linked into the driver's chunk, not fetched at connect:
  // the HCA pages' usual reader, the Castles EZ100PU, is a TPDU reader (src/ccid/tpdu-loader.ts).
  resolve: { alias: [{ find: /^\.\/tpdu-loader\.js$/, replacement: inRepo('src/ccid/tpdu-loader-static.ts') }] },
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
    rollupOptions: {
      input: Object.fromEntries(pages.map((name) => [name, page(name)])),
      output: { codeSplitting: { groups: CHUNK_GROUPS } },
    },
  },
});

/**
 * The package as an integrator gets it. Packs webccid (the `files` of package.json, dist built by
 * the same tsc build as `prepack`), installs the tarball into a new app in the temporary folder
 * with `npm install --omit=optional` (so without `usb`) plus the optional peers the app uses,
 * type-checks the app strictly (skipLibCheck false) against webccid, webccid/hca, webccid/session,
 * webccid/components (+ /define), webccid/virtual and webccid/server, builds its page with Vite,
 * serves it with its own server (webccid/server: challenge and verification), and binds the
 * virtual card in Chromium: <hca-bind-card>, PIN, 驗證 -> 驗證成功, verified by that server.
 *
 * The app is test/consumer/app/. TypeScript and Vite are the repository's own (an app's build
 * tools are not what it installs from webccid; and `--omit=optional` would also drop Vite's
 * native bundler, an optional dependency of Vite itself). Needs the npm registry (or npm's cache)
 * for the peers, and Chromium (skipped locally without it, like the browser tests; required in CI).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APP_TEMPLATE = fileURLToPath(new URL('./app', import.meta.url));
const CHROMIUM = process.env['WEBCCID_CHROMIUM'] ?? '/usr/bin/chromium';
const IN_CI = Boolean(process.env['CI']);
const SKIP_REASON = existsSync(CHROMIUM) ? '' : `no Chromium at ${CHROMIUM}`;
const SKIP = SKIP_REASON !== '' && !IN_CI;
if (SKIP) console.warn(`[consumer] consumer test skipped: ${SKIP_REASON} (set CI to make this a failure)`);

/** The tarball limit of the issue: at most 1 MB. */
const MAX_TARBALL_BYTES = 1_000_000;
const PIN = '123456';
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });
  if (r.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

const node = (script: string, args: string[], cwd: string) => run(process.execPath, [script, ...args], cwd);
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const VITE = path.join(ROOT, 'node_modules/vite/bin/vite.js');

describe.skipIf(SKIP)(`consumer app${SKIP ? ` (SKIPPED: ${SKIP_REASON})` : ''}`, { timeout: 300_000 }, () => {
  let work = '';
  let appDir = '';
  let tarball = '';
  let packed: { size: number; files: string[] } | undefined;
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'webccid-consumer-'));
    // A staging copy of what `npm pack` looks at, with dist/ built by the prepack build.
    const stage = path.join(work, 'package');
    mkdirSync(stage);
    for (const entry of ['package.json', 'README.md', 'LICENSE', 'bin', 'docs']) cpSync(path.join(ROOT, entry), path.join(stage, entry), { recursive: true });
    node(TSC, ['-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(stage, 'dist')], ROOT);
    const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage);
    const info = (JSON.parse(out) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>)[0]!;
    tarball = path.join(work, info.filename);
    packed = { size: statSync(tarball).size, files: info.files.map((f) => f.path) };

    appDir = path.join(work, 'app');
    cpSync(APP_TEMPLATE, appDir, { recursive: true });
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'webccid-consumer', private: true, type: 'module' }, null, 2));
    const peers = ['lit', '@lit/localize', '@peculiar/x509', 'reflect-metadata'].map((name) => `${name}@${pkg.peerDependencies[name]}`);
    run('npm', ['install', '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...peers, `@types/node@${pkg.devDependencies['@types/node']}`], appDir);
  }, 300_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    server?.kill();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('the tarball: at most 1 MB, LICENSE and the built dist, the docs as text only, no tests or images', () => {
    expect(packed!.size).toBeLessThanOrEqual(MAX_TARBALL_BYTES);
    const files = packed!.files;
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/components/define.js', 'docs/design.md', 'bin/webccid.mjs']));
    expect(files.filter((f) => !/^(dist|bin|docs)\//.test(f) && !['LICENSE', 'README.md', 'package.json'].includes(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('docs/') && !f.endsWith('.md'))).toEqual([]);
    expect(files.filter((f) => /\.test\.(js|d\.ts)$/.test(f))).toEqual([]);
  });

  it('installs with --omit=optional: no usb, the WebUSB types there, nothing built at install', () => {
    const modules = path.join(appDir, 'node_modules');
    expect(existsSync(path.join(modules, 'webccid/dist/index.js'))).toBe(true);
    expect(existsSync(path.join(modules, 'usb'))).toBe(false);
    expect(existsSync(path.join(modules, '@types/w3c-web-usb/index.d.ts'))).toBe(true);
    // webccid brings no runtime dependency of its own: SQLite only with the reference server
    expect(existsSync(path.join(modules, 'node-sqlite3-wasm'))).toBe(false);
    // no script of the installed package runs at install time
    const installed = JSON.parse(readFileSync(path.join(modules, 'webccid/package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    expect(Object.keys(installed.scripts ?? {}).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s))).toEqual([]);
    // the declarations import only packages webccid declares (no transitive ones such as lit-html,
    // which a strict node_modules layout would not let them reach), and Node's built-ins
    const declared = new Set([...Object.keys(installed.dependencies ?? {}), ...Object.keys(installed.peerDependencies ?? {})]);
    const imported = new Set<string>();
    for (const file of readdirSync(path.join(modules, 'webccid/dist'), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.d.ts')) continue;
      const code = readFileSync(path.join(modules, 'webccid/dist', file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line) || line.startsWith('/// <reference'))
        .join('\n');
      for (const m of code.matchAll(/(?:from |import\(|reference types=)["']([^"'.][^"']*)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    const typesOf = (name: string) => (declared.has(`@types/${name}`) ? `@types/${name}` : name);
    expect([...imported].map(typesOf).filter((name) => !declared.has(name))).toEqual([]);
  });

  it('type-checks strictly (skipLibCheck false): the page against webccid, /hca, /session, /components, /virtual, /server; the server against /server', () => {
    node(TSC, ['-p', 'tsconfig.json'], appDir);
    node(TSC, ['-p', 'tsconfig.server.json'], appDir);
    expect(existsSync(path.join(appDir, 'build-server/server.js'))).toBe(true);
  });

  it('builds with Vite and binds the virtual card in Chromium: 驗證成功, verified by the app\'s server', async () => {
    node(VITE, ['build', '--logLevel', 'warn'], appDir);
    expect(existsSync(path.join(appDir, 'dist/index.html'))).toBe(true);

    server = spawn(process.execPath, ['build-server/server.js', 'dist'], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await new Promise<number>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`the app's server did not start: ${seen}`)), 30_000);
      server!.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        const m = /listening (\d+)/.exec(seen);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      server!.stderr!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
      server!.once('exit', (code) => reject(new Error(`the app's server exited (${code}): ${seen}`)));
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/`);
    const status = page.locator('#status');
    await page.locator('#status[data-ready="true"], #status[data-failed="true"]').waitFor({ timeout: 60_000 });
    expect(await status.innerText()).toMatch(/^ready/);

    await page.getByTestId('card-type-personnel').check();
    await page.getByTestId('pin').fill(PIN);
    await page.getByTestId('verify').click();
    const success = page.getByTestId('success');
    await success.waitFor({ state: 'visible', timeout: 60_000 });
    expect(await success.innerText()).toContain('驗證成功');
    // the verdict came from the app's server (webccid/server's verifyBinding), not from the page
    expect(await status.getAttribute('data-server')).toMatch(/^verified \S/);
    expect(pageErrors).toEqual([]);
  });
});

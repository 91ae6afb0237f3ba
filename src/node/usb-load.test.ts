/**
 * How the Node backend loads the `usb` package, in a fresh Node process (the cost is paid once per
 * process, so it cannot be seen inside vitest's long-lived workers). The package is CommonJS: an
 * `import()` of it makes Node's ESM loader load cjs-module-lexer and scan the package's source
 * for its named exports, about 90 to 180 ms of a cold open in the QEMU lab (docs/testing.md,
 * "QEMU round trips"). Node lists what it loaded for itself in `process.moduleLoadList`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// inside the project, so that the bundle resolves `usb` from the project's node_modules
const outDir = path.join(root, 'node_modules/.cache', `webccid-usb-load-${process.pid}`);
// outside the project: there `usb` cannot be resolved (as in an install without the optional package)
const noUsbDir = mkdtempSync(path.join(tmpdir(), 'webccid-no-usb-'));

/** The library as the Node entry point ships it (ESM), `usb` left to be resolved at run time. */
async function bundleNodeEntry(dir: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: { index: path.join(root, 'src/node/index.ts') },
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['usb'],
    logLevel: 'silent',
  });
}

beforeAll(async () => {
  mkdirSync(outDir, { recursive: true });
  await bundleNodeEntry(outDir);
  await bundleNodeEntry(noUsbDir);
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(noUsbDir, { recursive: true, force: true });
});

describe('getNodeUsb in a fresh process', () => {
  it('loads the usb package without making the ESM loader lex it', () => {
    const script = [
      `const lib = await import(${JSON.stringify(pathToFileURL(path.join(outDir, 'index.js')).href)});`,
      'const before = process.moduleLoadList.filter((m) => m.includes("cjs-module-lexer"));',
      'const usb = await lib.getNodeUsb();',
      'const after = process.moduleLoadList.filter((m) => m.includes("cjs-module-lexer"));',
      'console.log(JSON.stringify({ backend: typeof usb.getDevices, before, after }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 15_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { backend: string; before: string[]; after: string[] };
    expect(r.backend).toBe('function'); // the package loaded and gave its WebUSB object
    expect(r.before).toEqual([]);
    expect(r.after).toEqual([]);
  });

  it('reports transport/no-webusb when the usb package cannot be loaded', () => {
    const script = [
      `const lib = await import(${JSON.stringify(pathToFileURL(path.join(noUsbDir, 'index.js')).href)});`,
      'const code = await lib.getNodeUsb().then(() => "loaded", (e) => e.code);',
      'console.log(JSON.stringify({ code }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: noUsbDir, encoding: 'utf8', timeout: 15_000 });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ code: 'transport/no-webusb' });
  });
});

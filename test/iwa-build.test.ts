/**
 * The Isolated Web App build (scripts/build-iwa.ts): the signed web bundle's manifest and
 * signature verify with wbn / wbn-sign, the web bundle id is derived from the signing key, every
 * response carries the IWA headers, the icons are real PNGs >= 144 px, and the dev key lives in
 * a git-ignored place. Uses a small stand-in web build (the real one is built by `npm run build:iwa`).
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { getBundleId } from 'wbn-sign';
import {
  buildIwa,
  createIwaManifest,
  DEV_KEY_PATH,
  IWA_HEADERS,
  IWA_MANIFEST_PATH,
  loadSigningKey,
  renderIcon,
  verifySignedWebBundle,
  webBundleIdOf,
} from '../scripts/build-iwa.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** RFC 4648 base32, lower case, no padding (written here so the id check does not trust wbn-sign). */
function base32(bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function pngSize(png: Uint8Array): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
  const v = new DataView(png.buffer, png.byteOffset);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

let dir: string;
let keyPath: string;
let signed: Uint8Array;
let result: Awaited<ReturnType<typeof buildIwa>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webccid-iwa-'));
  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  mkdirSync(join(web, 'unlock'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>webccid</title><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(web, 'assets', 'app.js'), 'console.log("hi");');
  writeFileSync(join(web, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(web, 'unlock', 'index.html'), '<!doctype html><title>unlock</title>');
  keyPath = join(dir, 'keys', 'key.pem');
  loadSigningKey(keyPath, { create: true });
  result = await buildIwa({ webDir: web, outDir: join(dir, 'out'), keyPath, version: '1.2.3', updateBaseUrl: 'https://kiosk.example/iwa' });
  signed = new Uint8Array(readFileSync(result.signedBundlePath));
});

describe('IWA build', () => {
  it('the signature verifies and the web bundle id is the signing key’s', () => {
    const v = verifySignedWebBundle(signed);
    const key = loadSigningKey(keyPath);
    const raw = createPublicKey(key).export({ format: 'jwk' }).x!;
    const expectedId = base32(Uint8Array.from([...Buffer.from(raw, 'base64url'), 0x00, 0x01, 0x02]));
    expect(v.webBundleId).toBe(expectedId);
    expect(result.webBundleId).toBe(expectedId);
    expect(getBundleId(signed)).toBe(expectedId);
    expect(webBundleIdOf(key).origin).toBe(`isolated-app://${expectedId}/`);
    expect(result.origin).toBe(`isolated-app://${expectedId}/`);
  });

  it('the manifest asks for usb, usb-unrestricted and smart-card, with id, version and icons >= 144 px', () => {
    const { manifest, bundle } = verifySignedWebBundle(signed);
    expect(manifest).toMatchObject({ id: '/', start_url: '/', version: '1.2.3', display: 'standalone' });
    expect(manifest['permissions_policy']).toMatchObject({ usb: ['self'], 'usb-unrestricted': ['self'], 'smart-card': ['self'] });
    const icons = manifest['icons'] as Array<{ src: string; sizes: string; type: string }>;
    expect(icons.some((i) => Number.parseInt(i.sizes, 10) >= 144)).toBe(true);
    for (const icon of icons) {
      const r = bundle.getResponse(result.origin + icon.src.slice(1));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('image/png');
      const size = pngSize(r.body);
      expect(`${size.width}x${size.height}`).toBe(icon.sizes);
    }
    const m = bundle.getResponse(result.origin + IWA_MANIFEST_PATH.slice(1));
    expect(m.headers['content-type']).toBe('application/manifest+json');
  });

  it('every response carries COOP / COEP / CORP (and the CSP); index.html is served at its folder', () => {
    const { bundle } = verifySignedWebBundle(signed);
    expect(bundle.urls.every((u) => u.startsWith(result.origin))).toBe(true);
    expect(bundle.urls.length).toBeGreaterThanOrEqual(8);
    for (const url of bundle.urls) {
      const h = bundle.getResponse(url).headers;
      expect(h['cross-origin-opener-policy']).toBe('same-origin');
      expect(h['cross-origin-embedder-policy']).toBe('require-corp');
      expect(h['cross-origin-resource-policy']).toBe('same-origin');
      expect(h['content-security-policy']).toBe(IWA_HEADERS['content-security-policy']);
    }
    const root = bundle.getResponse(result.origin);
    expect(root.status).toBe(200);
    expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(new TextDecoder().decode(root.body)).toContain('<title>webccid</title>');
    expect(bundle.getResponse(result.origin + 'index.html')).toMatchObject({ status: 301, headers: { location: './' } });
    expect(bundle.getResponse(result.origin + 'unlock/').status).toBe(200);
    expect(bundle.getResponse(result.origin + 'assets/app.js').headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('writes the update manifest for policy installs', () => {
    const u = JSON.parse(readFileSync(result.updateManifestPath!, 'utf8')) as unknown;
    expect(u).toEqual({ versions: [{ version: '1.2.3', src: 'https://kiosk.example/iwa/webccid.swbn' }] });
  });

  it('a changed byte in the web bundle or the signature fails verification', () => {
    const body = signed.slice();
    body[body.length - 100]! ^= 1;
    expect(() => verifySignedWebBundle(body)).toThrow();
    const sig = signed.slice();
    const webBundleLength = Number(new DataView(sig.buffer).getBigUint64(sig.length - 8));
    sig[sig.length - webBundleLength - 1]! ^= 1; // last byte of the signature
    expect(() => verifySignedWebBundle(sig)).toThrow();
    expect(() => verifySignedWebBundle(signed.subarray(0, 7))).toThrow();
  });

  it('a bundle signed by another key has another id', async () => {
    const other = join(dir, 'other.pem');
    writeFileSync(other, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = await buildIwa({ webDir: join(dir, 'web'), outDir: join(dir, 'out2'), keyPath: other, version: '1.2.3' });
    expect(r.webBundleId).not.toBe(result.webBundleId);
    expect(verifySignedWebBundle(new Uint8Array(readFileSync(r.signedBundlePath))).webBundleId).toBe(r.webBundleId);
  });
});

describe('IWA signing key', () => {
  it('is made once (Ed25519, mode 0600, folder ignored by its own .gitignore), then reused', () => {
    const k1 = loadSigningKey(keyPath);
    const k2 = loadSigningKey(keyPath, { create: true });
    expect(k1.asymmetricKeyType).toBe('ed25519');
    expect(webBundleIdOf(k1).id).toBe(webBundleIdOf(k2).id);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'keys', '.gitignore'), 'utf8')).toBe('*\n');
  });

  it('refuses a missing key without create, and a key that is not Ed25519', () => {
    expect(() => loadSigningKey(join(dir, 'missing.pem'))).toThrow(/No signing key/);
    const rsa = join(dir, 'rsa.pem');
    writeFileSync(rsa, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => loadSigningKey(rsa)).toThrow(/Ed25519/);
  });

  it('the default dev key path is ignored by git', () => {
    const rel = relative(ROOT, DEV_KEY_PATH);
    expect(rel.startsWith('.webccid/')).toBe(true);
    // exit status 0 = ignored
    execFileSync('git', ['check-ignore', '-q', rel], { cwd: ROOT });
  });
});

describe('IWA manifest and icon', () => {
  it('keeps members of an existing manifest and adds the permissions', () => {
    const m = createIwaManifest({ name: 'X', version: '2.0', base: { lang: 'zh-TW', permissions_policy: { 'cross-origin-isolated': ['self'], hid: ['self'] } } });
    expect(m).toMatchObject({ lang: 'zh-TW', name: 'X', version: '2.0' });
    expect(m['permissions_policy']).toMatchObject({ hid: ['self'], usb: ['self'], 'usb-unrestricted': ['self'], 'smart-card': ['self'] });
  });

  it.each(['', '1.x', 'v1', '1..2'])('rejects version %j', (version) => {
    expect(() => createIwaManifest({ name: 'X', version })).toThrow();
  });

  it('renders a PNG of the asked size', () => {
    expect(pngSize(renderIcon(144))).toEqual({ width: 144, height: 144 });
  });
});

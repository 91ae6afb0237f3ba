/**
 * `npm run build:iwa`: the web app as a signed Isolated Web App (a Signed Web Bundle, `.swbn`)
 * for managed ChromeOS kiosks, where `usb-unrestricted` lets WebUSB claim class 0x0B readers
 * and `navigator.smartCard` is available.
 *
 * Steps: build the web app (`vite build --config web/vite.config.ts`, into dist-web/ or a
 * folder given with --out-web), add the IWA manifest (/.well-known/manifest.webmanifest with
 * permissions_policy for usb, usb-unrestricted, smart-card and cross-origin-isolated) and two
 * generated PNG icons, put every file in a web bundle (`wbn`, format b2, URLs under
 * isolated-app://<web bundle id>/) with the headers IWAs must send (COOP same-origin, COEP
 * require-corp, CORP same-origin, a CSP inside the IWA default), sign it with an Ed25519 key
 * (`wbn-sign`), verify the result, and write dist-iwa/webccid.swbn (+ update-manifest.json when
 * --update-base-url is given).
 *
 * The key: --key <pem> (a production key; an encrypted one takes its passphrase from
 * WEB_BUNDLE_SIGNING_PASSPHRASE), else the dev key .webccid/iwa/dev-signing-key.pem, made on
 * first use (mode 0600; .webccid/ is git-ignored and the folder gets its own `*` .gitignore).
 *
 * Options: --web-dir <dir> (use an existing build, skip vite), --out-web <dir>, --out <dir>
 * (default dist-iwa), --key <pem>, --version <x.y.z> (default package.json's), --name <text>,
 * --update-base-url <https://host/path/> (writes update-manifest.json whose `src` is that URL
 * + webccid.swbn).
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import { Bundle, BundleBuilder } from 'wbn';
import { IntegrityBlock, IntegrityBlockSigner, NodeCryptoSigningStrategy, WebBundleId, getBundleId, parsePemKey } from 'wbn-sign';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the manifest of an IWA must be. */
export const IWA_MANIFEST_PATH = '/.well-known/manifest.webmanifest';

/** Permissions policy the app asks for (Chrome grants an IWA only what its manifest lists). */
export const IWA_PERMISSIONS_POLICY: Record<string, string[]> = {
  usb: ['self'],
  'usb-unrestricted': ['self'],
  'smart-card': ['self'],
  'cross-origin-isolated': ['self'],
};

/**
 * Headers every response of an IWA carries. COOP / COEP / CORP must have exactly these values
 * (Chrome refuses the bundle otherwise); the CSP may only be as strict or stricter than Chrome's
 * IWA default, which it enforces anyway (`connect-src` allows https: and wss: for the server).
 */
export const IWA_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'content-security-policy':
    "base-uri 'none'; default-src 'self'; object-src 'none'; frame-src 'self' https: blob: data:; connect-src 'self' https: wss:; " +
    "script-src 'self' 'wasm-unsafe-eval'; img-src 'self' https: blob: data:; media-src 'self' https: blob: data:; font-src 'self' blob: data:; " +
    "style-src 'self' 'unsafe-inline'; require-trusted-types-for 'script'; frame-ancestors 'self';",
});

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  webmanifest: 'application/manifest+json',
  md: 'text/markdown; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  wasm: 'application/wasm',
  woff2: 'font/woff2',
  xlf: 'application/xml',
};

/** Content-Type for a bundle path (application/octet-stream when unknown). */
export function contentTypeOf(path: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

// ---- icons -------------------------------------------------------------------------------------

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeAndData = new Uint8Array(4 + data.length);
  typeAndData.set(new TextEncoder().encode(type), 0);
  typeAndData.set(data, 4);
  out.set(typeAndData, 4);
  view.setUint32(8 + data.length, crc32(typeAndData) >>> 0);
  return out;
}

/** Encodes RGBA pixels (width * height * 4 bytes) as a PNG (8-bit RGBA, no interlace). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 4)] = 0; // filter: none
    raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, adaptive filtering, no interlace
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The app icon: a teal rounded square with a gold card chip, `size` x `size` pixels. */
export function renderIcon(size: number): Uint8Array {
  const px = new Uint8Array(size * size * 4);
  const r = size * 0.18;
  const inRounded = (x: number, y: number, x0: number, y0: number, x1: number, y1: number, rad: number) => {
    const cx = Math.min(Math.max(x, x0 + rad), x1 - rad);
    const cy = Math.min(Math.max(y, y0 + rad), y1 - rad);
    return x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x - cx) ** 2 + (y - cy) ** 2 <= rad * rad;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 4;
      const fx = x + 0.5;
      const fy = y + 0.5;
      let c: [number, number, number, number] = [0, 0, 0, 0];
      if (inRounded(fx, fy, 0, 0, size, size, r)) c = [0x0f, 0x76, 0x6e, 255];
      const chip = [size * 0.3, size * 0.34, size * 0.7, size * 0.66] as const;
      if (inRounded(fx, fy, chip[0], chip[1], chip[2], chip[3], size * 0.06)) {
        const line = Math.abs(fy - size / 2) < size * 0.012 || Math.abs(fx - size / 2) < size * 0.012;
        c = line ? [0x8a, 0x6a, 0x1c, 255] : [0xe8, 0xc1, 0x5a, 255];
      }
      px.set(c, i);
    }
  }
  return encodePng(size, size, px);
}

/** Icon sizes put in the bundle (Chrome wants at least one >= 144 px for an installable app). */
export const ICON_SIZES = [256, 512] as const;

// ---- manifest ----------------------------------------------------------------------------------

export interface IwaManifestOptions {
  name: string;
  shortName?: string;
  /** Dot-separated integers, e.g. "0.1.0" (IWAs must have one). */
  version: string;
  /** A manifest already in the web build, whose other members are kept. */
  base?: Record<string, unknown>;
}

/** The IWA web app manifest (id "/", version, icons, permissions_policy). */
export function createIwaManifest(options: IwaManifestOptions): Record<string, unknown> {
  if (!/^\d+(\.\d+)*$/.test(options.version)) throw new Error(`IWA version must be dot-separated integers, not "${options.version}"`);
  const base = options.base ?? {};
  const basePolicy = (typeof base['permissions_policy'] === 'object' && base['permissions_policy'] !== null ? base['permissions_policy'] : {}) as Record<string, string[]>;
  return {
    ...base,
    id: '/',
    name: options.name,
    short_name: options.shortName ?? options.name,
    description: 'Reads and signs with Taiwan HCA health cards through a USB smart-card reader (WebUSB or the Web Smart Card API).',
    version: options.version,
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#ffffff',
    theme_color: '#0f766e',
    icons: ICON_SIZES.map((s) => ({ src: `/icons/icon-${s}.png`, sizes: `${s}x${s}`, type: 'image/png', purpose: 'any' })),
    permissions_policy: { ...basePolicy, ...IWA_PERMISSIONS_POLICY },
  };
}

// ---- key ---------------------------------------------------------------------------------------

/** Default dev key path (git-ignored). */
export const DEV_KEY_PATH = join(ROOT, '.webccid', 'iwa', 'dev-signing-key.pem');

/**
 * Reads an Ed25519 private key (PEM; encrypted keys take WEB_BUNDLE_SIGNING_PASSPHRASE). With
 * `create`, a missing file is made: a new Ed25519 key, mode 0600, in a folder ignored by git.
 */
export function loadSigningKey(path: string, options: { create?: boolean } = {}): KeyObject {
  if (!existsSync(path)) {
    if (!options.create) throw new Error(`No signing key at ${path}`);
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(join(dir, '.gitignore'))) writeFileSync(join(dir, '.gitignore'), '*\n');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  const pem = readFileSync(path);
  const passphrase = process.env['WEB_BUNDLE_SIGNING_PASSPHRASE'];
  const key = pem.includes('ENCRYPTED') ? parsePemKey(pem, passphrase) : parsePemKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: an Ed25519 key is needed (got ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

/** The web bundle id (and isolated-app:// origin) of a key. */
export function webBundleIdOf(key: KeyObject): { id: string; origin: string } {
  const id = new WebBundleId(key);
  return { id: id.serialize(), origin: id.serializeWithIsolatedWebAppOrigin() };
}

// ---- bundle ------------------------------------------------------------------------------------

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

export interface BuildWebBundleOptions {
  /** The built web app (index.html at its root). */
  webDir: string;
  /** isolated-app://<id>/ */
  origin: string;
  manifest: Record<string, unknown>;
}

/** The unsigned web bundle (b2) of the web app + manifest + icons, every response with IWA_HEADERS. */
export function buildWebBundle(options: BuildWebBundleOptions): Uint8Array {
  const files = new Map<string, Uint8Array>();
  for (const path of listFiles(options.webDir)) files.set(path, new Uint8Array(readFileSync(join(options.webDir, path))));
  if (!files.has('index.html')) throw new Error(`${options.webDir} has no index.html: build the web app first`);
  files.set(IWA_MANIFEST_PATH.slice(1), new TextEncoder().encode(JSON.stringify(options.manifest, null, 2)));
  for (const s of ICON_SIZES) files.set(`icons/icon-${s}.png`, renderIcon(s));
  const builder = new BundleBuilder('b2');
  const headers = (path: string) => ({ ...IWA_HEADERS, 'content-type': contentTypeOf(path) });
  for (const path of [...files.keys()].sort()) {
    const body = files.get(path)!;
    const name = path.split('/').pop()!;
    if (name === 'index.html') {
      const dir = path.slice(0, -'index.html'.length);
      builder.addExchange(options.origin + path, 301, { ...IWA_HEADERS, location: './' }, '');
      builder.addExchange(options.origin + dir, 200, headers(path), body);
    } else {
      builder.addExchange(options.origin + path, 200, headers(path), body);
    }
  }
  return builder.createBundle();
}

/** Signs a web bundle (integrity block v2, one Ed25519 signature). */
export async function signWebBundle(webBundle: Uint8Array, key: KeyObject): Promise<Uint8Array> {
  const { id } = webBundleIdOf(key);
  const { signedWebBundle } = await new IntegrityBlockSigner(webBundle, id, [new NodeCryptoSigningStrategy(key)]).sign();
  return signedWebBundle;
}

export interface VerifiedSignedWebBundle {
  webBundleId: string;
  /** The signer's Ed25519 public key. */
  publicKey: KeyObject;
  /** The web bundle after the integrity block, parsed with `wbn`. */
  bundle: Bundle;
  manifest: Record<string, unknown>;
}

/**
 * Checks a signed web bundle with wbn-sign's own pieces: the integrity block must be exactly
 * what `IntegrityBlock` encodes for its web bundle id and its one Ed25519 signature, the id must
 * be the signer's public key's, and the signature must verify over the data wbn-sign signs
 * (SHA-512 of the web bundle, the unsigned integrity block, the signature attributes). Then
 * parses the web bundle with `wbn` and reads the manifest. Throws on any mismatch.
 */
export function verifySignedWebBundle(signed: Uint8Array): VerifiedSignedWebBundle {
  if (signed.length < 8) throw new Error('Too short for a signed web bundle');
  const webBundleLength = Number(new DataView(signed.buffer, signed.byteOffset + signed.length - 8, 8).getBigUint64(0));
  if (webBundleLength <= 0 || webBundleLength >= signed.length) throw new Error('No integrity block before the web bundle');
  const integrityBlock = signed.subarray(0, signed.length - webBundleLength);
  const webBundle = signed.subarray(signed.length - webBundleLength);
  const webBundleId = String(getBundleId(signed));

  // The unsigned integrity block (what was signed) differs from the signed one only in the
  // signature stack: array(0) -> array(1) [attributes, signature].
  const unsigned = new IntegrityBlock();
  unsigned.setWebBundleId(webBundleId);
  const unsignedCbor = unsigned.toCBOR();
  const n = unsignedCbor.length;
  const prefixMatches = integrityBlock.length > n + 66 && unsignedCbor.subarray(0, n - 1).every((b, i) => integrityBlock[i] === b);
  if (!prefixMatches || unsignedCbor[n - 1] !== 0x80 || integrityBlock[n - 1] !== 0x81 || integrityBlock[n] !== 0x82) {
    throw new Error('The integrity block is not a v2 block with exactly one signature');
  }
  const signatureHeader = integrityBlock.subarray(integrityBlock.length - 66, integrityBlock.length - 64);
  if (signatureHeader[0] !== 0x58 || signatureHeader[1] !== 0x40) throw new Error('The signature is not 64 bytes (Ed25519)');
  const signature = new Uint8Array(integrityBlock.subarray(integrityBlock.length - 64));
  const attributesCbor = new Uint8Array(integrityBlock.subarray(n + 1, integrityBlock.length - 66));
  const rawKey = attributesCbor.subarray(attributesCbor.length - 32);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(rawKey).toString('base64url') }, format: 'jwk' });

  // Same bytes as wbn-sign would write for this id, key and signature.
  const rebuilt = new IntegrityBlock();
  rebuilt.setWebBundleId(webBundleId);
  rebuilt.addIntegritySignature({ signatureAttributes: { ed25519PublicKey: new Uint8Array(rawKey) }, signature });
  const rebuiltCbor = rebuilt.toCBOR();
  if (rebuiltCbor.length !== integrityBlock.length || !rebuiltCbor.every((b, i) => integrityBlock[i] === b)) {
    throw new Error('The integrity block does not re-encode to the same bytes');
  }
  if (new WebBundleId(publicKey).serialize() !== webBundleId) throw new Error('The web bundle id is not the signing key’s');

  const checker = new IntegrityBlockSigner(new Uint8Array(webBundle), webBundleId, []);
  const hash = new Uint8Array(createHash('sha512').update(webBundle).digest());
  const data = checker.generateDataToBeSigned(hash, unsignedCbor, attributesCbor);
  checker.verifySignature(data, signature, publicKey); // throws when it does not verify

  const bundle = new Bundle(new Uint8Array(webBundle));
  const origin = new WebBundleId(publicKey).serializeWithIsolatedWebAppOrigin();
  const manifestUrl = origin + IWA_MANIFEST_PATH.slice(1);
  const manifest = JSON.parse(new TextDecoder().decode(bundle.getResponse(manifestUrl).body)) as Record<string, unknown>;
  return { webBundleId, publicKey, bundle, manifest };
}

// ---- the whole build ---------------------------------------------------------------------------

export interface BuildIwaOptions {
  /** An existing web build; when absent, vite builds web/ into `outWeb`. */
  webDir?: string;
  /** Where vite builds the web app (default dist-web). */
  outWeb?: string;
  /** Output folder (default dist-iwa). */
  outDir?: string;
  /** Private key PEM; default the dev key (created when missing). */
  keyPath?: string;
  version?: string;
  name?: string;
  /** Writes update-manifest.json pointing at <url>webccid.swbn. */
  updateBaseUrl?: string;
  log?: (line: string) => void;
}

export interface BuildIwaResult {
  signedBundlePath: string;
  webBundleId: string;
  origin: string;
  size: number;
  updateManifestPath?: string;
}

/** Builds, signs, verifies and writes the IWA. */
export async function buildIwa(options: BuildIwaOptions = {}): Promise<BuildIwaResult> {
  const log = options.log ?? (() => undefined);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  let webDir = options.webDir;
  if (webDir === undefined) {
    webDir = resolve(options.outWeb ?? join(ROOT, 'dist-web'));
    log(`vite build web/ -> ${webDir}`);
    const { build } = await import('vite');
    await build({ configFile: join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir: webDir, emptyOutDir: true } });
  }
  const keyPath = options.keyPath ?? DEV_KEY_PATH;
  const key = loadSigningKey(keyPath, { create: options.keyPath === undefined });
  const { id, origin } = webBundleIdOf(key);
  const existing = join(webDir, IWA_MANIFEST_PATH.slice(1));
  const manifest = createIwaManifest({
    name: options.name ?? 'webccid HCA',
    version: options.version ?? pkg.version,
    ...(existsSync(existing) ? { base: JSON.parse(readFileSync(existing, 'utf8')) as Record<string, unknown> } : {}),
  });
  const signed = await signWebBundle(buildWebBundle({ webDir, origin, manifest }), key);
  const verified = verifySignedWebBundle(signed);
  if (verified.webBundleId !== id) throw new Error('Signed bundle id mismatch');
  const outDir = resolve(options.outDir ?? join(ROOT, 'dist-iwa'));
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(join(outDir, '.gitignore'))) writeFileSync(join(outDir, '.gitignore'), '*\n');
  const signedBundlePath = join(outDir, 'webccid.swbn');
  writeFileSync(signedBundlePath, signed);
  log(`${signedBundlePath} (${signed.length} bytes)`);
  log(`web bundle id: ${id}`);
  log(`origin: ${origin}`);
  const result: BuildIwaResult = { signedBundlePath, webBundleId: id, origin, size: signed.length };
  if (options.updateBaseUrl) {
    const base = options.updateBaseUrl.endsWith('/') ? options.updateBaseUrl : `${options.updateBaseUrl}/`;
    const updateManifestPath = join(outDir, 'update-manifest.json');
    writeFileSync(updateManifestPath, JSON.stringify({ versions: [{ version: manifest['version'], src: `${base}webccid.swbn` }] }, null, 2) + '\n');
    log(`${updateManifestPath}`);
    result.updateManifestPath = updateManifestPath;
  }
  return result;
}

function parseArgs(argv: string[]): BuildIwaOptions {
  const o: BuildIwaOptions = { log: (l) => console.log(l) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--web-dir') o.webDir = resolve(value());
    else if (a === '--out-web') o.outWeb = resolve(value());
    else if (a === '--out') o.outDir = resolve(value());
    else if (a === '--key') o.keyPath = resolve(value());
    else if (a === '--version') o.version = value();
    else if (a === '--name') o.name = value();
    else if (a === '--update-base-url') o.updateBaseUrl = value();
    else throw new Error(`Unknown option ${a} (see scripts/build-iwa.ts)`);
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  buildIwa(parseArgs(process.argv.slice(2))).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}

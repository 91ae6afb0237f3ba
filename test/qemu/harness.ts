/**
 * QEMU USB lab harness: boots a tiny Linux guest (Debian kernel + busybox initramfs made by
 * scripts/qemu/setup.sh) under TCG with QEMU's emulated CCID reader (usb-ccid, 08E6:4433) on an
 * xHCI controller, and runs one Node script inside it. The guest sees the host's `/` read-only
 * over 9p (so the host's node and node_modules run unchanged) and a per-run folder read-write,
 * where the script writes its JSON results (path in `WEBCCID_RESULTS`).
 *
 * Work folder: `$WEBCCID_QEMU_DIR` or /tmp/webccid-qemu (kernel, initramfs, NSS db, runs/).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { VsCardPeer, type PassthruCard } from './vscard.js';

export type { PassthruCard } from './vscard.js';

/** Project root (the folder holding package.json). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Folder of the guest scripts. */
export const GUEST_DIR = path.join(PROJECT_ROOT, 'test/qemu/guest');
/** Work folder of the lab (never inside the repository). */
export const QEMU_WORK_DIR = process.env['WEBCCID_QEMU_DIR'] ?? '/tmp/webccid-qemu';
const SETUP_SCRIPT = path.join(PROJECT_ROOT, 'scripts/qemu/setup.sh');
const QEMU_BINARY = 'qemu-system-x86_64';

/** QEMU's emulated reader. */
export const QEMU_CCID_VENDOR_ID = 0x08e6;
export const QEMU_CCID_PRODUCT_ID = 0x4433;

export type GuestCard = 'emulated' | 'none' | 'passthru';

export interface RunInGuestOptions {
  /** What sits in QEMU's reader: its emulated CAC-like card, nothing, or `passthru` (a card served from the host). */
  card: GuestCard;
  /** Path (host path; the guest sees the same path) of the Node script to run in the guest. */
  script: string;
  /** Arguments for the script. */
  args?: string[];
  /** Extra environment for the script. */
  env?: Record<string, string>;
  /** Hard limit for the whole run (boot included); QEMU is killed when it is reached. */
  timeoutMs: number;
  /** The card behind `ccid-card-passthru` (VSCard protocol over a unix socket); only with `card: 'passthru'`. */
  passthru?: PassthruCard;
  /** Keep the run folder afterwards (it is always kept when the run fails). */
  keep?: boolean;
}

export interface GuestRunResult {
  /** Exit code of the guest script; null when it did not finish (timeout, boot failure). */
  exitCode: number | null;
  /** The script's stdout and stderr. */
  stdout: string;
  stderr: string;
  /** Parsed JSON the script wrote to `WEBCCID_RESULTS`; undefined when it wrote none. */
  results: unknown;
  /** Wall time of the whole run (QEMU start to exit), seconds. */
  seconds: number;
  /** Guest uptime when the script started (kernel boot + init + modules + USB enumeration), seconds. */
  bootSeconds: number | undefined;
  /** Guest time spent in the script (Node start-up included), seconds. */
  scriptSeconds: number | undefined;
  timedOut: boolean;
  /** QEMU's serial console and stderr (kernel and init messages): for diagnosis. */
  console: string;
  /** The run folder (deleted after a successful run unless `keep`). */
  runDir: string;
}

export type QemuAvailability = { ok: true; kernel: string; initrd: string; nssdb: string } | { ok: false; reason: string };

function findInPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function readLabEnv(): Record<string, string> {
  const file = path.join(QEMU_WORK_DIR, 'lab.env');
  const env: Record<string, string> = {};
  if (!existsSync(file)) return env;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/**
 * Whether the lab can run here: qemu-system-x86_64, the packages, the kernel, the initramfs and
 * the NSS database made by `scripts/qemu/setup.sh`, and the `usb` package. Never installs anything.
 */
export function qemuAvailability(): QemuAvailability {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { ok: false, reason: `the QEMU lab needs linux/x64 (this is ${process.platform}/${process.arch})` };
  }
  if (!findInPath(QEMU_BINARY)) {
    return { ok: false, reason: `${QEMU_BINARY} not found (Debian package qemu-system-x86; then run: bash scripts/qemu/setup.sh)` };
  }
  const check = spawnSync('bash', [SETUP_SCRIPT, '--check'], {
    encoding: 'utf8',
    env: { ...process.env, WEBCCID_QEMU_DIR: QEMU_WORK_DIR },
    timeout: 30_000,
  });
  if (check.status !== 0) {
    const said = `${check.stdout ?? ''}${check.stderr ?? ''}`.trim() || String(check.error ?? `exit ${check.status}`);
    return { ok: false, reason: `${said.split('\n')[0]} [checked by scripts/qemu/setup.sh --check]` };
  }
  const lab = readLabEnv();
  const kernel = lab['KERNEL'];
  const initrd = lab['INITRD'];
  const nssdb = lab['NSSDB'];
  if (!kernel || !initrd || !nssdb || !existsSync(kernel) || !existsSync(initrd)) {
    return { ok: false, reason: `no usable ${path.join(QEMU_WORK_DIR, 'lab.env')} (run: bash scripts/qemu/setup.sh)` };
  }
  if (!existsSync(path.join(PROJECT_ROOT, 'node_modules/usb/package.json'))) {
    return { ok: false, reason: 'the usb package is not installed (npm install; it is an optional dependency)' };
  }
  return { ok: true, kernel, initrd, nssdb };
}

/**
 * Runs `bash scripts/qemu/setup.sh` (idempotent; installs missing Debian packages when root,
 * downloads and unpacks the kernel, builds the initramfs). Returns the availability afterwards.
 */
export function setupQemuLab(opts: { timeoutMs?: number } = {}): QemuAvailability {
  const r = spawnSync('bash', [SETUP_SCRIPT], {
    encoding: 'utf8',
    env: { ...process.env, WEBCCID_QEMU_DIR: QEMU_WORK_DIR },
    timeout: opts.timeoutMs ?? 600_000,
  });
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    return { ok: false, reason: `scripts/qemu/setup.sh failed (${r.status ?? r.signal ?? r.error?.message}): ${tail}` };
  }
  return qemuAvailability();
}

/** Quotes for POSIX sh. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every QEMU we started and that is still running: killed if this process exits first. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

let runCounter = 0;

/** Deletes run folders (kept after failures) older than a day. */
function pruneOldRuns(): void {
  const runs = path.join(QEMU_WORK_DIR, 'runs');
  if (!existsSync(runs)) return;
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of readdirSync(runs)) {
    const dir = path.join(runs, name);
    try {
      if (statSync(dir).mtimeMs < dayAgo) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another process removed it
    }
  }
}

/**
 * Boots the guest and runs `script` in it with the host's node (same path). Resolves when QEMU has
 * exited (the guest powers off after the script) or was killed at `timeoutMs`. Never rejects for
 * a failing script or a timeout: look at `exitCode` / `timedOut`. Rejects when the lab is not
 * available.
 */
export async function runInGuest(opts: RunInGuestOptions): Promise<GuestRunResult> {
  const avail = qemuAvailability();
  if (!avail.ok) throw new Error(`QEMU lab not available: ${avail.reason}`);
  if (opts.passthru && opts.card !== 'passthru') throw new Error('passthru card given but card is not "passthru"');
  const script = path.resolve(opts.script);
  if (!existsSync(script)) throw new Error(`guest script not found: ${script}`);

  pruneOldRuns();
  const runDir = path.join(QEMU_WORK_DIR, 'runs', `${process.pid}-${++runCounter}-${randomBytes(3).toString('hex')}`);
  if (/\s/.test(runDir)) throw new Error(`the run folder must not contain white space: ${runDir}`);
  mkdirSync(runDir, { recursive: true });
  const resultsFile = path.join(runDir, 'results.json');

  const env: Record<string, string> = {
    HOME: '/run/webccid-home',
    TMPDIR: '/run/webccid-tmp',
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    WEBCCID_GUEST: '1',
    WEBCCID_RESULTS: resultsFile,
    WEBCCID_PROJECT_ROOT: PROJECT_ROOT,
    ...opts.env,
  };
  const lines = ['set -e', 'mkdir -p /run/webccid-home /run/webccid-tmp'];
  for (const [k, v] of Object.entries(env)) {
    if (!ENV_NAME.test(k)) throw new Error(`bad environment variable name: ${k}`);
    lines.push(`export ${k}=${shellQuote(v)}`);
  }
  lines.push(`cd ${shellQuote(PROJECT_ROOT)}`);
  lines.push(`exec ${[process.execPath, script, ...(opts.args ?? [])].map(shellQuote).join(' ')}`);
  writeFileSync(path.join(runDir, 'job.sh'), `${lines.join('\n')}\n`);
  // the guest kills the job at this limit by itself (should the host side die and leave QEMU behind)
  writeFileSync(path.join(runDir, 'job-timeout'), `${Math.max(1, Math.ceil(opts.timeoutMs / 1000))}\n`);
  // the init waits (bounded) for these USB vendor ids before starting the job
  writeFileSync(path.join(runDir, 'wait-usb'), `${QEMU_CCID_VENDOR_ID.toString(16).padStart(4, '0')}\n`);

  const cardArgs: string[] = [];
  let vscServer: Server | undefined;
  let vscSocketPath: string | undefined;
  const vscSockets = new Set<Socket>();
  if (opts.card === 'emulated') {
    cardArgs.push(
      '-device',
      `ccid-card-emulated,backend=certificates,db=sql:${avail.nssdb},cert1=id-cert,cert2=signing-cert,cert3=encryption-cert`,
    );
  } else if (opts.card === 'passthru') {
    // QEMU connects as a client to our unix socket; a sun_path is at most 107 bytes
    vscSocketPath = path.join(runDir, 'vsc.sock');
    if (vscSocketPath.length > 100) vscSocketPath = path.join(tmpdir(), `webccid-vsc-${process.pid}-${runCounter}.sock`);
    const card = opts.passthru;
    vscServer = createServer((sock) => {
      vscSockets.add(sock);
      sock.on('close', () => vscSockets.delete(sock));
      if (card) new VsCardPeer(sock, card).start();
    });
    const socketPath = vscSocketPath;
    await new Promise<void>((resolve, reject) => {
      vscServer?.once('error', reject);
      vscServer?.listen(socketPath, () => resolve());
    });
    cardArgs.push('-chardev', `socket,id=vsc,path=${vscSocketPath}`, '-device', 'ccid-card-passthru,chardev=vsc');
  }

  // One vCPU and qboot (no SeaBIOS) boot fastest under TCG on a busy 2-CPU host (measured: ~9-10 s
  // wall for boot + `node -e 0` + power-off, against ~10-14 s with -smp 2 and SeaBIOS).
  const qboot = '/usr/share/qemu/qboot.rom';
  const qemuArgs = [
    '-accel', 'tcg',
    '-m', '2048',
    '-smp', '1',
    ...(existsSync(qboot) ? ['-bios', qboot] : []),
    '-nographic', '-nodefaults', '-no-reboot',
    '-serial', 'stdio',
    '-kernel', avail.kernel,
    '-initrd', avail.initrd,
    '-append', `console=ttyS0 quiet panic=-1 webccid.run=${runDir}`,
    '-virtfs', 'local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${runDir},mount_tag=run,security_model=none`,
    '-device', 'qemu-xhci,id=xhci',
    '-device', 'usb-ccid,id=ccid,bus=xhci.0',
    ...cardArgs,
  ];

  installExitHook();
  const started = process.hrtime.bigint();
  const child = spawn(QEMU_BINARY, qemuArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: runDir });
  live.add(child);
  let consoleText = '';
  const collect = (chunk: Buffer): void => {
    if (consoleText.length < 1_000_000) consoleText += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      consoleText += `\n[harness] cannot start ${QEMU_BINARY}: ${err.message}\n`;
      resolve();
    });
  });
  clearTimeout(timer);
  live.delete(child);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  for (const s of vscSockets) s.destroy();
  if (vscServer) await new Promise<void>((resolve) => vscServer?.close(() => resolve()));
  if (vscSocketPath && existsSync(vscSocketPath)) unlinkSync(vscSocketPath);

  const exitText = readIfExists(path.join(runDir, 'exit-code'))?.trim();
  const exitCode = exitText !== undefined && /^\d+$/.test(exitText) ? Number(exitText) : null;
  const stdout = readIfExists(path.join(runDir, 'stdout')) ?? '';
  const stderr = readIfExists(path.join(runDir, 'stderr')) ?? '';
  const resultsText = readIfExists(resultsFile);
  let results: unknown;
  if (resultsText !== undefined) {
    try {
      results = JSON.parse(resultsText) as unknown;
    } catch (err) {
      results = { harnessError: `results.json is not JSON: ${(err as Error).message}`, text: resultsText.slice(0, 2000) };
    }
  }
  const upStart = Number.parseFloat(readIfExists(path.join(runDir, 'uptime-job-start')) ?? '');
  const upEnd = Number.parseFloat(readIfExists(path.join(runDir, 'uptime-job-end')) ?? '');
  const bootSeconds = Number.isFinite(upStart) ? upStart : undefined;
  const scriptSeconds = Number.isFinite(upStart) && Number.isFinite(upEnd) ? upEnd - upStart : undefined;

  if (exitCode === 0 && !timedOut && !opts.keep && process.env['WEBCCID_QEMU_KEEP'] !== '1') {
    rmSync(runDir, { recursive: true, force: true });
  } else {
    writeFileSync(path.join(runDir, 'console.log'), consoleText);
  }
  return { exitCode, stdout, stderr, results, seconds, bootSeconds, scriptSeconds, timedOut, console: consoleText, runDir };
}

/**
 * Bundles the library for the guest (on the host, before boot): `src/node/index.ts` (and
 * `src/index.ts` when present) with esbuild into `<outDir>/node/index.js` (`<outDir>/index.js`),
 * ESM for Node 20, `usb` left external (resolved from the project's node_modules at run time).
 * One file to load over 9p starts much faster under TCG than tsc's many. The folder is inside
 * the project (test/qemu/.build/, git-ignored) so that `usb` resolves. Returns the folder.
 */
export async function buildGuestLibrary(opts: { outDir?: string; entries?: Record<string, string> } = {}): Promise<string> {
  const outDir = opts.outDir ?? path.join(PROJECT_ROOT, 'test/qemu/.build', `lib-${process.pid}`);
  const entryPoints: Record<string, string> = { 'node/index': path.join(PROJECT_ROOT, 'src/node/index.ts') };
  // More modules the guest imports, e.g. { 'nhi/index': 'src/nhi/index.ts' } (paths from the project root).
  for (const [name, file] of Object.entries(opts.entries ?? {})) entryPoints[name] = path.join(PROJECT_ROOT, file);
  if (existsSync(path.join(PROJECT_ROOT, 'src/index.ts'))) entryPoints['index'] = path.join(PROJECT_ROOT, 'src/index.ts');
  rmSync(outDir, { recursive: true, force: true });
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['usb'],
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  return outDir;
}

/** One line for logs: what a run cost. */
export function describeRun(r: GuestRunResult): string {
  const f = (n: number | undefined): string => (n === undefined ? '?' : n.toFixed(1));
  return `${f(r.seconds)} s wall (guest boot ${f(r.bootSeconds)} s, script ${f(r.scriptSeconds)} s)${r.timedOut ? ' TIMED OUT' : ''}, exit ${r.exitCode}`;
}

/** A short diagnosis for failed assertions: exit code, the ends of stdout/stderr and of the console. */
export function diagnose(r: GuestRunResult): string {
  const tail = (s: string, n: number): string => s.split('\n').slice(-n).join('\n');
  return [
    `run: ${describeRun(r)}; folder ${r.runDir}`,
    `--- stdout (tail)\n${tail(r.stdout, 30)}`,
    `--- stderr (tail)\n${tail(r.stderr, 30)}`,
    `--- console (tail)\n${tail(r.console.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''), 20)}`,
  ].join('\n');
}

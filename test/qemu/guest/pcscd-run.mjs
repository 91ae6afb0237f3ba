// Runs INSIDE the QEMU guest: one run of the C PC/SC client (pcsc-rtt.c) under a pcscd of its own,
// for `npm run bench:qemu` (bench-rtt.mjs) and `npm run test:qemu-browser` (browser-run.mjs).
// pcscd holds the reader while it runs, so each run starts `pcscd --foreground` (its socket in the
// guest's tmpfs /run/pcscd) and stops it (SIGTERM, waited for: it has released the USB device once
// it has exited; SIGKILL after 10 s, and a pcscd still there 5 s later fails the run) before the
// next client opens the device.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';

export const PCSCD = '/usr/sbin/pcscd';

/**
 * Starts pcscd, runs `client` with `args`, stops pcscd; returns the client's JSON result (its
 * `ok` checked). A failure is thrown with the tail of pcscd's stderr (`logTail` characters).
 */
export async function runUnderPcscd(client, args, { debug = false, logTail = Infinity } = {}) {
  mkdirSync('/run/pcscd', { recursive: true }); // /run is a tmpfs in the guest (the root is read-only)
  const daemon = spawn(PCSCD, ['--foreground', ...(debug ? ['--debug'] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr.on('data', (d) => (log += d));
  let gone = false;
  const exited = new Promise((resolve) =>
    daemon.on('exit', (code) => {
      gone = true;
      resolve(code);
    }),
  );
  try {
    // the client needs pcscd's socket: wait (up to 20 s) for it
    for (let i = 0; !existsSync('/run/pcscd/pcscd.comm'); i++) {
      if (gone || i > 200) throw new Error(gone ? 'pcscd exited' : 'pcscd made no socket in 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = await new Promise((resolve, reject) =>
      execFile(client, args, { timeout: 60_000 }, (err, stdout, stderr) =>
        err && !stdout ? reject(new Error(`${err.message} (signal ${err.signal ?? '-'}, code ${err.code ?? '-'}) ${stderr}`)) : resolve(stdout),
      ),
    );
    const r = JSON.parse(out);
    if (!r.ok) throw new Error(`pcsc-rtt: ${r.error}`);
    return r;
  } catch (e) {
    throw new Error(`${e.message}\npcscd stderr:\n${Number.isFinite(logTail) ? log.slice(-logTail) : log}`);
  } finally {
    // a pcscd that does not stop (seen in the lab under a loaded host: stuck in the reader) fails
    // the run within 15 s instead of holding it until the guest's watchdog
    const within = (ms) => Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), ms).unref())]);
    daemon.kill('SIGTERM');
    if (!(await within(10_000))) {
      daemon.kill('SIGKILL');
      if (!(await within(5_000))) throw new Error(`pcscd did not exit 10 s after SIGTERM nor 5 s after SIGKILL\npcscd stderr:\n${log.slice(-4000)}`);
    }
  }
}

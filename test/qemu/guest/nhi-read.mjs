// Runs INSIDE the QEMU guest (see test/qemu/harness.ts): reads the NHI card behind QEMU's reader
// with OUR driver (Node backend) and readNhiCard. The library comes from $WEBCCID_LIB (node/index.js
// and nhi/index.js, bundled by the harness). Writes JSON to $WEBCCID_RESULTS.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const results = { ok: false };
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const finish = (code) => {
  writeFileSync(process.env.WEBCCID_RESULTS ?? '/dev/stdout', `${JSON.stringify(results, null, 2)}\n`);
  console.log(`nhi-read ${results.ok ? 'ok' : 'FAILED'}`);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 100).unref();
};
setTimeout(() => {
  results.error = { name: 'Watchdog', message: 'no result in time' };
  finish(3);
}, Number(process.env.WEBCCID_WATCHDOG_MS ?? 45_000)).unref();

try {
  const libDir = process.env.WEBCCID_LIB;
  if (!libDir) throw new Error('WEBCCID_LIB is not set');
  const node = await import(pathToFileURL(path.join(libDir, 'node/index.js')).href);
  const nhi = await import(pathToFileURL(path.join(libDir, 'nhi/index.js')).href);
  const reader = await node.openNodeReader({ vendorId: 0x08e6, productId: 0x4433 });
  try {
    const connection = await reader.connect();
    results.atr = hex(connection.atr.bytes);
    results.protocol = connection.protocol;
    try {
      results.data = await nhi.readNhiCard(connection);
    } catch (e) {
      results.readError = { name: e?.name, code: e?.code, sw: e?.sw, message: String(e?.message ?? e) };
    }
    await connection.disconnect('unpower').catch(() => undefined);
  } finally {
    await reader.close();
  }
  results.ok = true;
  finish(0);
} catch (e) {
  results.error = { name: e?.name, code: e?.code, message: String(e?.message ?? e) };
  finish(1);
}

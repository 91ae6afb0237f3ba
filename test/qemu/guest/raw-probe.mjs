// Runs INSIDE the QEMU guest (see test/qemu/harness.ts). A minimal CCID client written straight on
// the `usb` package's WebUSB (no project code), to prove the lab and record what QEMU's reader does:
// open, GET_DESCRIPTOR(configuration), claim, GetSlotStatus, IccPowerOn, XfrBlock APDUs, IccPowerOff.
// Writes JSON to $WEBCCID_RESULTS. APDUs: $WEBCCID_APDUS (comma-separated hex) or the defaults below.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const root = process.env.WEBCCID_PROJECT_ROOT ?? process.cwd();
const require = createRequire(path.join(root, 'package.json'));
const { WebUSB } = require('usb');

const DEFAULT_APDUS = [
  '00a4040007a000000079010000', // SELECT the CAC PKI applet with Le (case 4): FCI + 9000 in one answer
  '8052000002023434', // CAC READ BUFFER, 52 bytes of value: 52 + SW + 10-byte header = one full 64-byte packet
  '00a4040007a000000079010005', // the same SELECT with Le=5: the card answers 610D (13 bytes waiting)
  '00c000000d', // GET RESPONSE for those 13 bytes
  '00a40000023f00', // SELECT MF: not supported by this card (6A81)
];
const apdus = (process.env.WEBCCID_APDUS ? process.env.WEBCCID_APDUS.split(',') : DEFAULT_APDUS).filter(Boolean);

const results = { ok: false, steps: [], exchanges: [] };
const t0 = performance.now();
const ms = () => Math.round((performance.now() - t0) * 10) / 10;
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const bytesOf = (dv) => (dv ? new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength) : new Uint8Array(0));
const u32 = (b, o) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const step = (name, extra = {}) => results.steps.push({ name, atMs: ms(), ...extra });
const save = () => writeFileSync(process.env.WEBCCID_RESULTS ?? '/dev/stdout', `${JSON.stringify(results, null, 2)}\n`);

function parseClassDescriptor(b) {
  return {
    hex: hex(b),
    bLength: b[0],
    bDescriptorType: b[1],
    bcdCCID: b[2] | (b[3] << 8),
    bMaxSlotIndex: b[4],
    bVoltageSupport: b[5],
    dwProtocols: u32(b, 6),
    dwDefaultClock: u32(b, 10),
    dwMaximumClock: u32(b, 14),
    dwDataRate: u32(b, 19),
    dwMaxDataRate: u32(b, 23),
    dwMaxIFSD: u32(b, 28),
    dwFeatures: u32(b, 40),
    dwMaxCCIDMessageLength: u32(b, 44),
    bPINSupport: b[52],
    bMaxCCIDBusySlots: b[53],
  };
}

/** Walks a configuration descriptor; returns the first interface of class 0x0B and its 0x21 descriptor. */
function findCcid(config) {
  let offset = 0;
  let inCcid = false;
  let iface;
  let classDescriptor;
  while (offset + 2 <= config.length) {
    const len = config[offset];
    const type = config[offset + 1];
    if (len < 2) break;
    if (type === 0x04) {
      inCcid = config[offset + 5] === 0x0b;
      if (inCcid && !iface) iface = { bInterfaceNumber: config[offset + 2], bInterfaceClass: config[offset + 5] };
    } else if (type === 0x21 && inCcid && !classDescriptor) {
      classDescriptor = config.slice(offset, offset + len);
    }
    offset += len;
  }
  return { iface, classDescriptor };
}

function parseResponse(b) {
  if (b.length < 10) return { short: true, length: b.length };
  return {
    bMessageType: b[0],
    dwLength: u32(b, 1),
    bSlot: b[5],
    bSeq: b[6],
    bStatus: b[7],
    bmICCStatus: b[7] & 0x03,
    bmCommandStatus: (b[7] >> 6) & 0x03,
    bError: b[8],
    bSpecific: b[9],
    abData: hex(b.subarray(10)),
  };
}

async function main() {
  const webusb = new WebUSB({ allowAllDevices: true });
  const devices = await webusb.getDevices();
  results.devices = devices.map((d) => ({ vendorId: d.vendorId, productId: d.productId, productName: d.productName }));
  step('getDevices', { count: devices.length });
  const device = devices.find((d) => d.vendorId === 0x08e6 && d.productId === 0x4433);
  if (!device) throw new Error('QEMU USB CCID reader (08e6:4433) not found');
  results.device = {
    vendorId: device.vendorId,
    productId: device.productId,
    productName: device.productName,
    manufacturerName: device.manufacturerName,
    usbVersion: `${device.usbVersionMajor}.${device.usbVersionMinor}`,
  };
  await device.open();
  if (!device.configuration) await device.selectConfiguration(1);
  step('open');

  // WebUSB hides class-specific descriptors: read the whole configuration descriptor ourselves
  const head = await device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 6, value: 0x0200, index: 0 }, 9);
  const total = bytesOf(head.data)[2] | (bytesOf(head.data)[3] << 8);
  const cfg = await device.controlTransferIn({ requestType: 'standard', recipient: 'device', request: 6, value: 0x0200, index: 0 }, total);
  const config = bytesOf(cfg.data);
  results.configDescriptor = hex(config);
  const { iface, classDescriptor } = findCcid(config);
  if (!iface || !classDescriptor) throw new Error('no CCID interface / class descriptor in the configuration descriptor');
  results.classDescriptor = parseClassDescriptor(classDescriptor);
  step('getDescriptor', { wTotalLength: total });

  const alt = device.configuration.interfaces.find((i) => i.interfaceNumber === iface.bInterfaceNumber).alternate;
  results.endpoints = alt.endpoints.map((e) => ({ endpointNumber: e.endpointNumber, direction: e.direction, type: e.type, packetSize: e.packetSize }));
  const bulkOut = alt.endpoints.find((e) => e.type === 'bulk' && e.direction === 'out');
  const bulkIn = alt.endpoints.find((e) => e.type === 'bulk' && e.direction === 'in');
  await device.claimInterface(iface.bInterfaceNumber);
  step('claimInterface');

  // A transfer cannot be cancelled: a read that timed out stays pending and is reused as the next read.
  let pendingIn;
  const readLength = Math.ceil((10 + 65536 + 2) / bulkIn.packetSize) * bulkIn.packetSize;
  const readIn = (timeoutMs) => {
    pendingIn ??= device.transferIn(bulkIn.endpointNumber, readLength);
    const current = pendingIn;
    return Promise.race([
      current.then((r) => {
        if (pendingIn === current) pendingIn = undefined;
        return { status: r.status, data: bytesOf(r.data) };
      }),
      new Promise((resolve) => setTimeout(() => resolve({ status: 'timeout', data: new Uint8Array(0) }), timeoutMs)),
    ]);
  };

  let seq = 0;
  async function command(name, bMessageType, abData = new Uint8Array(0), params = [0, 0, 0]) {
    const msg = new Uint8Array(10 + abData.length);
    msg[0] = bMessageType;
    new DataView(msg.buffer).setUint32(1, abData.length, true);
    msg[5] = 0;
    msg[6] = seq++ & 0xff;
    msg.set(params, 7);
    msg.set(abData, 10);
    const started = performance.now();
    await device.transferOut(bulkOut.endpointNumber, msg);
    const reads = [];
    let r;
    // a zero-length read is not an answer: read again (bounded)
    for (let i = 0; i < 3; i++) {
      r = await readIn(10_000);
      reads.push({ status: r.status, length: r.data.length });
      if (r.status !== 'ok' || r.data.length > 0) break;
    }
    const exchange = {
      name,
      command: hex(msg),
      status: r.status,
      response: hex(r.data),
      responseLength: r.data.length,
      reads,
      ms: Math.round((performance.now() - started) * 10) / 10,
      parsed: parseResponse(r.data),
    };
    // QEMU quirk probe: after an answer that exactly fills its last packet, is there an extra zero-length packet?
    if (r.status === 'ok' && r.data.length > 0 && r.data.length % bulkIn.packetSize === 0) {
      const extra = await readIn(1_500);
      exchange.afterFullPacket = { status: extra.status, length: extra.data.length };
    }
    results.exchanges.push(exchange);
    return exchange;
  }

  await command('GetSlotStatus', 0x65);
  const powerOn = await command('IccPowerOn', 0x62, new Uint8Array(0), [0x01, 0, 0]);
  results.atr = powerOn.parsed.bmCommandStatus === 0 ? powerOn.parsed.abData : null;
  if (results.atr) {
    for (const apdu of apdus) await command(`XfrBlock ${apdu}`, 0x6f, fromHex(apdu));
  }
  await command('IccPowerOff', 0x63);
  await command('GetSlotStatus', 0x65);
  results.pendingReadLeft = pendingIn !== undefined;
  await device.releaseInterface(iface.bInterfaceNumber);
  if (!results.pendingReadLeft) await device.close();
  step('done');
  results.ok = true;
}

main()
  .catch((err) => {
    results.error = String(err?.stack ?? err);
    process.exitCode = 1;
  })
  .finally(() => {
    results.totalMs = ms();
    results.nodeUptimeMs = Math.round(process.uptime() * 1000);
    save();
    console.log(`raw-probe ${results.ok ? 'ok' : 'FAILED'} in ${results.totalMs} ms (node up ${results.nodeUptimeMs} ms)`);
    // a pending transfer would keep the process alive
    setTimeout(() => process.exit(), 50).unref();
  });

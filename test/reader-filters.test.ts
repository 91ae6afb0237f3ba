/**
 * The requestDevice filters: class 0x0B, the vendor-class CCID readers of the
 * fixtures (a generated list: it must match the fixtures), the EZ100PU.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  collectVendorClassReaders,
  renderVendorClassReaderIds,
  renderVendorClassReaders,
  VENDOR_CLASS_READER_IDS_FILE,
  VENDOR_CLASS_READERS_FILE,
} from '../scripts/generate-reader-filters.js';
import { VENDOR_CLASS_CCID_READERS } from '../src/usb/vendor-class-readers.js';
import { VENDOR_CLASS_CCID_READER_IDS } from '../src/usb/vendor-class-reader-ids.js';
import { CCID_REQUEST_FILTERS, deviceMatchesFilter, EZ100PU_FILTER, isCcidReaderCandidate } from '../src/ccid/filters.js';
import { createVirtualReader, VIRTUAL_READER_PRESETS } from '../src/virtual/index.js';

describe('vendor-class reader list', () => {
  it('src/usb/vendor-class-readers.ts is what the script generates from the fixtures (npx tsx scripts/generate-reader-filters.ts)', () => {
    const readers = collectVendorClassReaders();
    expect(VENDOR_CLASS_CCID_READERS).toEqual(readers);
    expect(readFileSync(VENDOR_CLASS_READERS_FILE, 'utf8')).toBe(renderVendorClassReaders(readers));
  });

  it('src/usb/vendor-class-reader-ids.ts holds the same readers, VID:PID only (what the filters use)', () => {
    const readers = collectVendorClassReaders();
    expect(VENDOR_CLASS_CCID_READER_IDS).toEqual(readers.map((r) => [r.vendorId, r.productId]));
    expect(readFileSync(VENDOR_CLASS_READER_IDS_FILE, 'utf8')).toBe(renderVendorClassReaderIds(readers));
  });

  it('holds the known vendor-class readers, one per VID:PID, and no class 0x0B reader', () => {
    const ids = VENDOR_CLASS_CCID_READERS.map((r) => `${r.vendorId.toString(16)}:${r.productId.toString(16)}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('4e6:e003'); // SCM SPR532
    expect(ids).toContain('4e6:511a'); // SCR3310-NTTCom (the virtual vendor-class preset)
    expect(ids).not.toContain('ca6:a0'); // EZCCID is class 0x0B
    expect(VENDOR_CLASS_CCID_READERS.length).toBeGreaterThan(20);
  });
});

describe('CCID_REQUEST_FILTERS', () => {
  it('class 0x0B first, then every vendor-class reader, then the EZ100PU', () => {
    expect(CCID_REQUEST_FILTERS[0]).toEqual({ classCode: 0x0b });
    expect(CCID_REQUEST_FILTERS).toContainEqual(EZ100PU_FILTER);
    expect(CCID_REQUEST_FILTERS).toHaveLength(1 + VENDOR_CLASS_CCID_READERS.length + 1);
    expect(CCID_REQUEST_FILTERS.slice(1, -1)).toEqual(VENDOR_CLASS_CCID_READERS.map((r) => ({ vendorId: r.vendorId, productId: r.productId })));
    for (const f of CCID_REQUEST_FILTERS) expect(Object.keys(f).length).toBeGreaterThan(0);
  });

  it.each([
    ['castles-ezccid (class 0x0B)', createVirtualReader({ preset: 'castles-ezccid' }), true],
    ['scm-scr3310-nttcom (vendor class)', createVirtualReader({ preset: 'scm-scr3310-nttcom' }), true],
    ['castles-ez100pu', createVirtualReader({ preset: 'castles-ez100pu' }), true],
    ['a vendor-class device not in the list', createVirtualReader({ vendorId: 0x1209, productId: 0x0002, interfaceClass: 0xff }), false],
  ])('%s -> %s', (_, device, expected) => {
    expect(isCcidReaderCandidate(device)).toBe(expected);
  });

  it('matches like WebUSB: vendorId, productId and classCode together', () => {
    const d = { vendorId: 1, productId: 2, configurations: [{ interfaces: [{ alternates: [{ interfaceClass: 0x0b }] }] }] };
    expect(deviceMatchesFilter(d, { vendorId: 1 })).toBe(true);
    expect(deviceMatchesFilter(d, { vendorId: 1, productId: 3 })).toBe(false);
    expect(deviceMatchesFilter(d, { classCode: 0x0b, vendorId: 1 })).toBe(true);
    expect(deviceMatchesFilter(d, { classCode: 0xff })).toBe(false);
    expect(deviceMatchesFilter({ vendorId: 1, productId: 2, deviceClass: 0x0b }, { classCode: 0x0b })).toBe(true);
    expect(VIRTUAL_READER_PRESETS['scm-scr3310-nttcom'].interfaceClass).toBe(0xff);
  });
});

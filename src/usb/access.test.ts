import { describe, expect, it } from 'vitest';
import { createVirtualHcaCard } from '../virtual/hca-card.js';
import { createVirtualReader, VirtualUsb } from '../virtual/index.js';
import { CcidReader } from '../ccid/reader.js';
import { isWebCcidError } from '../errors.js';
import {
  ACCESS_CAUSE_CODES,
  accessError,
  detectPlatform,
  explainAccess,
  findPermittedReaders,
  predictAccess,
  readerInterfaceClass,
  type AccessCause,
  type AccessPlatform,
} from './access.js';

const ez100pu = () => createVirtualReader({ preset: 'castles-ez100pu' });
const ccid = () => createVirtualReader({ preset: 'castles-ezccid' });
const vendor = () => createVirtualReader({ preset: 'scm-scr3310-nttcom' });
const other = () => createVirtualReader({ preset: 'ideal', vendorId: 0x1209, productId: 0x0001, interfaceClass: 0x03 });

describe('predictAccess', () => {
  it.each<[string, () => ReturnType<typeof ccid>, Parameters<typeof predictAccess>[1], { ok: boolean; cause?: AccessCause; certain?: boolean }]>([
    ['class 0x0B on a page: protected', ccid, { context: 'page', platform: 'linux', usbAllowed: true }, { ok: false, cause: 'protected-class', certain: true }],
    ['class 0x0B in an IWA on ChromeOS: ok', ccid, { context: 'isolated-app', platform: 'chromeos', usbAllowed: true }, { ok: true }],
    ['class 0x0B in an IWA without usb-unrestricted', ccid, { context: 'isolated-app', platform: 'chromeos', usbAllowed: true, unrestricted: false }, { ok: false, cause: 'protected-class' }],
    ['class 0x0B in Node on Linux: pcscd likely holds it', ccid, { context: 'node', platform: 'linux' }, { ok: false, cause: 'os-held', certain: false }],
    ['EZ100PU on a Linux page: ok (no stock driver)', ez100pu, { context: 'page', platform: 'linux', usbAllowed: true }, { ok: true }],
    ['EZ100PU on a macOS page: ok', ez100pu, { context: 'page', platform: 'macos', usbAllowed: true }, { ok: true }],
    ['EZ100PU on a Windows page: its Windows driver likely holds it', ez100pu, { context: 'page', platform: 'windows', usbAllowed: true }, { ok: false, cause: 'os-held', certain: false }],
    ['vendor-class reader libccid knows, Linux: pcscd', vendor, { context: 'page', platform: 'linux', usbAllowed: true }, { ok: false, cause: 'os-held' }],
    ['vendor-class reader on ChromeOS page: ok', vendor, { context: 'page', platform: 'chromeos', usbAllowed: true }, { ok: true }],
    ['not granted', ez100pu, { context: 'page', platform: 'linux', usbAllowed: true, granted: false }, { ok: false, cause: 'no-permission', certain: true }],
    ['WebUSB blocked (insecure context / policy)', ez100pu, { context: 'page', platform: 'linux', usbAllowed: false }, { ok: false, cause: 'no-permission' }],
    ['a non-reader of another class on ChromeOS: ok as far as access goes', other, { context: 'page', platform: 'chromeos', usbAllowed: true }, { ok: true }],
  ])('%s', (_, make, options, expected) => {
    const p = predictAccess(make(), options);
    expect(p).toMatchObject(expected);
    if (!p.ok) expect(p.explanation.length).toBeGreaterThan(40);
  });

  it('reads the interface class from the device object only', () => {
    expect(readerInterfaceClass(ccid())).toBe(0x0b);
    expect(readerInterfaceClass(ez100pu())).toBe(0xff);
    expect(readerInterfaceClass(other())).toBe(0x03);
  });

  it('detects a platform string', () => {
    expect(['windows', 'linux', 'macos', 'chromeos', 'android', 'other']).toContain(detectPlatform());
  });
});

describe('every cause has its own explanation, per platform', () => {
  const platforms: AccessPlatform[] = ['windows', 'linux', 'macos', 'chromeos'];
  it.each<[AccessPlatform, RegExp]>([
    ['windows', /WinUSB.*Zadig|Zadig.*WinUSB/],
    ['linux', /pcscd.*udev/s],
    ['macos', /macOS/],
  ])('os-held on %s names the fix', (platform, pattern) => {
    expect(explainAccess('os-held', { platform, context: 'page' })).toMatch(pattern);
  });

  it('the three causes give three different texts on every platform', () => {
    for (const platform of platforms) {
      const texts = (['protected-class', 'os-held', 'no-permission'] as const).map((c) => explainAccess(c, { platform, context: 'page' }));
      expect(new Set(texts).size).toBe(3);
      expect(texts[0]).toMatch(/0x0B/);
      expect(texts[2]).toMatch(/HTTPS|chooser/);
    }
    expect(explainAccess('no-permission', { platform: 'chromeos', context: 'isolated-app' })).toMatch(/WebUsbAllowDevicesForUrls/);
  });
});

describe('the prediction and the claim agree (the claim refusal simulated by the virtual reader)', () => {
  it.each<[AccessCause, () => ReturnType<typeof ccid>, Parameters<typeof predictAccess>[1]]>([
    ['protected-class', () => createVirtualReader({ preset: 'castles-ezccid', claimRefusal: 'protected-class' }), { context: 'page', platform: 'linux', usbAllowed: true }],
    ['os-held', () => createVirtualReader({ preset: 'castles-ez100pu', claimRefusal: 'os-held' }), { context: 'page', platform: 'windows', usbAllowed: true }],
    ['no-permission', () => createVirtualReader({ preset: 'castles-ez100pu', accessDenied: true }), { context: 'page', platform: 'linux', usbAllowed: true, granted: false }],
  ])('%s', async (cause, make, options) => {
    const device = make();
    const p = predictAccess(device, options);
    expect(p).toMatchObject({ ok: false, cause });
    if (p.ok) return;
    expect(accessError(p).code).toBe(ACCESS_CAUSE_CODES[cause]);
    const e = await CcidReader.open(device).catch((x: unknown) => x);
    expect(isWebCcidError(e, ACCESS_CAUSE_CODES[cause])).toBe(true);
  });
});

describe('findPermittedReaders', () => {
  it('lists the granted readers (class 0x0B, vendor-class, EZ100PU) and leaves other devices out', async () => {
    const devices = [ccid(), ez100pu(), vendor(), other()];
    const usb = new VirtualUsb({ devices });
    const found = await findPermittedReaders(usb);
    expect(found).toEqual(devices.slice(0, 3));
  });

  it('reconnects: a permitted EZ100PU opens and reads the card with no chooser', async () => {
    const card = await createVirtualHcaCard({ pin: '620394', puk: '40518236' });
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'castles-ez100pu', card })] });
    const [device] = await findPermittedReaders(usb);
    const reader = await CcidReader.open(device!, { backend: usb });
    try {
      const c = await reader.connect(0);
      expect(c.atr.bytes[0]).toBe(0x3b);
    } finally {
      await reader.close();
    }
  });
});

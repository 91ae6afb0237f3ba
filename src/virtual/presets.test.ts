import { describe, expect, it } from 'vitest';
import { bytesOf, toHex } from '../bytes.js';
import { encodeCcidClassDescriptor, parseCcidClassDescriptor } from '../ccid/descriptor.js';
import { findCcidInterface, parseConfigurationDescriptor } from '../usb/config-descriptor.js';
import { loadReaderFixture } from '../../test/helpers/reader-fixture.js';
import { createHcaLikeCard } from './card.js';
import { VIRTUAL_READER_PRESET_NAMES, VIRTUAL_READER_PRESETS } from './presets.js';
import { RawCcidSession } from './raw-session.js';
import { createVirtualReader } from './reader/index.js';

const withFixture = VIRTUAL_READER_PRESET_NAMES.filter((n) => VIRTUAL_READER_PRESETS[n].fixture !== undefined);

describe('presets match their libccid fixture files', () => {
  it('covers the readers the brief asks for', () => {
    const levels = withFixture.map((n) => parseCcidClassDescriptor(encodeCcidClassDescriptor(VIRTUAL_READER_PRESETS[n].descriptor)));
    expect(levels.some((d) => d.exchangeLevel === 'tpdu')).toBe(true);
    expect(levels.some((d) => d.exchangeLevel === 'short-apdu')).toBe(true);
    expect(levels.some((d) => d.exchangeLevel === 'extended-apdu')).toBe(true);
    expect(levels.some((d) => d.bPINSupport === 3)).toBe(true);
    expect(levels.some((d) => d.bMaxSlotIndex >= 1)).toBe(true);
    expect(VIRTUAL_READER_PRESETS['castles-ezccid'].vendorId).toBe(0x0ca6);
    expect(VIRTUAL_READER_PRESETS['inmax-dwr18-hpc'].productId).toBe(0x750d);
  });

  for (const name of withFixture) {
    it(`${name}`, () => {
      const preset = VIRTUAL_READER_PRESETS[name];
      const fx = loadReaderFixture(preset.fixture!);
      const iface = fx.interfaces.find((i) => i.classDescriptor !== undefined)!;
      expect(preset.vendorId).toBe(fx.vendorId);
      expect(preset.productId).toBe(fx.productId);
      expect(preset.bcdDevice).toBe(fx.bcdDevice);
      expect(preset.manufacturerName ?? undefined).toBe(fx.manufacturer);
      expect(preset.productName ?? undefined).toBe(fx.product);
      expect(preset.interfaceClass).toBe(iface.bInterfaceClass);
      for (const [field, value] of Object.entries(preset.descriptor)) {
        expect([field, value]).toEqual([field, iface.fields[field as keyof typeof iface.fields]]);
      }
      expect(toHex(encodeCcidClassDescriptor(preset.descriptor))).toBe(toHex(iface.classDescriptor!));
      expect(preset.clockFrequencies ?? []).toEqual(iface.clocksKHz ?? []);
      expect(preset.dataRates ?? []).toEqual(iface.dataRates ?? []);
    });
  }
});

describe('a reader built from each preset', () => {
  for (const name of VIRTUAL_READER_PRESET_NAMES) {
    it(`${name}: serves its class descriptor and powers an HCA-like card on`, async () => {
      const preset = VIRTUAL_READER_PRESETS[name];
      const reader = createVirtualReader({ preset: name, card: createHcaLikeCard() });
      expect(reader.vendorId).toBe(preset.vendorId);
      const s = await RawCcidSession.open(reader);
      const config = bytesOf((await s.getDescriptor(2, 0, 1024)).data);
      const info = findCcidInterface(parseConfigurationDescriptor(config));
      expect(toHex(info.classDescriptor)).toBe(toHex(encodeCcidClassDescriptor(preset.descriptor)));
      expect(info.iface.bInterfaceClass).toBe(preset.interfaceClass);
      const on = await s.command({ name: 'IccPowerOn', bSlot: 0, bPowerSelect: 0 });
      expect(on.bStatus).toBe(0);
      expect(on.abData[0]).toBe(0x3b);
    });
  }

  it('overrides: exchange level, pinpad, slots, descriptor fields', () => {
    const r = createVirtualReader({ preset: 'castles-ezccid', exchangeLevel: 'extended-apdu', pinpad: true, slots: 2, descriptor: { dwMaxIFSD: 100 } });
    const d = parseCcidClassDescriptor(r.classDescriptor);
    expect(d.exchangeLevel).toBe('extended-apdu');
    expect(d.dwFeatures & 0xffff).toBe(0x0130);
    expect(d.bPINSupport).toBe(3);
    expect(d.bMaxSlotIndex).toBe(1);
    expect(d.dwMaxIFSD).toBe(100);
    expect(d.dwDefaultClock).toBe(3580);
    const c = createVirtualReader({ exchangeLevel: 'character' });
    expect(parseCcidClassDescriptor(c.classDescriptor).exchangeLevel).toBe('character');
  });
});

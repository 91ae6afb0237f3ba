/**
 * GET_DESCRIPTOR(CONFIGURATION) asks for the active configuration by its index in
 * `device.configurations` (USB 2.0 §9.4.3: wValue's low byte is the descriptor index, not
 * bConfigurationValue). WebUSB returns the same object for `configuration` and its entry in
 * `configurations`, but the `usb` package (what src/node/usb3.ts wraps) builds new objects on
 * every read, so the index must be found by `configurationValue`, not by object identity.
 */
import { describe, expect, it } from 'vitest';
import { CcidReader } from '../src/ccid/reader.js';
import { createHcaLikeCard, createVirtualReader } from '../src/virtual/index.js';
import type { UsbDeviceLike } from '../src/usb/device.js';

describe('CcidReader.open: the configuration descriptor of the active configuration', () => {
  it('finds its index by configurationValue when the device hands out copies (as the usb package does)', async () => {
    const virtual = createVirtualReader({ cards: [createHcaLikeCard()] });
    const active = virtual.configurations[0]!;
    // A first configuration that is not active (e.g. a second bConfigurationValue), then the
    // active one; `configuration` is a copy, never the same object as the list's entry.
    const other = { ...active, configurationValue: active.configurationValue + 1, interfaces: [] };
    const indexes: number[] = [];
    const device = new Proxy(virtual as unknown as UsbDeviceLike, {
      get(target, key) {
        if (key === 'configurations') return [other, { ...active }];
        if (key === 'configuration') return { ...active };
        if (key === 'controlTransferIn') {
          return (setup: USBControlTransferParameters, length: number) => {
            if (setup.request === 0x06 && setup.value >> 8 === 0x02) {
              indexes.push(setup.value & 0xff);
              // The virtual reader has one configuration: serve the request at its index 0.
              return virtual.controlTransferIn({ ...setup, value: 0x0200 }, length);
            }
            return virtual.controlTransferIn(setup, length);
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const reader = await CcidReader.open(device, { watchInterrupt: false });
    await reader.close();
    expect(indexes.length).toBeGreaterThan(0);
    expect(new Set(indexes)).toEqual(new Set([1]));
  });
});

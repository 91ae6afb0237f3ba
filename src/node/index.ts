/**
 * The Node backend: the `usb` package's WebUSB implementation (3.x: over the
 * Rust nusb library), which has no protected-class filter, so every CCID
 * reader works. `usb` is an optional dependency loaded on first use (with
 * `require`: see `loadUsbPackage`); this module is never part of the browser bundle. Its
 * devices are wrapped (./usb3.ts) so that transfers behave as WebUSB's: no
 * 1-second timeout, stalls as `status: 'stall'`, unplugging as NotFoundError.
 */
import { createRequire } from 'node:module';
import { CcidReader, type CcidReaderOptions } from '../ccid/reader.js';
import { TransportError } from '../errors.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { wrapNodeUsbBackend } from './usb3.js';
import { mayBeCcid } from '../usb/candidates.js';
import { useEnglishErrorText } from '../error-text-all.js';

// Node programs and the probe command line show error messages to developers and technicians:
// errors created from here on carry the English sentences (webccid/error-text), not the compact form.
useEnglishErrorText();

let backend: Promise<UsbBackendLike> | undefined;

/**
 * The `usb` package, loaded with `require`. It is a CommonJS package: an `import()` of it makes
 * Node's ESM loader read its source again and scan it with cjs-module-lexer (loaded for that) to
 * find its named exports, which in the QEMU lab cost about 90 to 180 ms of a cold reader open
 * under TCG (docs/testing.md, "QEMU round trips"); `require` loads it as it is.
 */
function loadUsbPackage(): typeof import('usb') {
  return createRequire(import.meta.url)('usb') as typeof import('usb');
}

/** The `usb` package's WebUSB object (wrapped), created once. Throws `transport/no-webusb` when the package is missing. */
export function getNodeUsb(): Promise<UsbBackendLike> {
  backend ??= (async () => {
    let mod: typeof import('usb');
    try {
      mod = loadUsbPackage();
    } catch (e) {
      throw new TransportError(
        'transport/no-webusb',
        'The optional "usb" package is not installed or failed to load its native part; run `npm install usb`.',
        { cause: e },
      );
    }
    return wrapNodeUsbBackend(new mod.WebUSB({ allowAllDevices: true }) as unknown as UsbBackendLike);
  })();
  return backend;
}

export { mayBeCcid };

/** USB devices that may be CCID readers. Where `/sys/bus/usb` is missing (no USB at all) this is an empty list. */
export async function listCcidDevices(): Promise<UsbDeviceLike[]> {
  const usb = await getNodeUsb();
  let devices: UsbDeviceLike[];
  try {
    devices = await usb.getDevices();
  } catch {
    return [];
  }
  return devices.filter(mayBeCcid);
}

export interface OpenNodeReaderOptions extends CcidReaderOptions {
  vendorId?: number;
  productId?: number;
  /** Which matching reader, in enumeration order (default 0). */
  index?: number;
}

/** Opens the first (or `index`-th) matching reader as a CcidReader. */
export async function openNodeReader(options: OpenNodeReaderOptions = {}): Promise<CcidReader> {
  const { vendorId, productId, index = 0, ...readerOptions } = options;
  const matches = (await listCcidDevices()).filter(
    (d) => (vendorId === undefined || d.vendorId === vendorId) && (productId === undefined || d.productId === productId),
  );
  const device = matches[index];
  if (!device) throw new TransportError('transport/no-reader', 'No USB smart-card reader was found.');
  return CcidReader.open(device, { backend: await getNodeUsb(), ...readerOptions });
}

export { CcidReader };

/**
 * Before claiming: predict whether this page (or Isolated Web App, or Node)
 * can use a reader, and say why not, per platform (docs/design.md §2):
 *
 * - `no-permission` (certain): the page may not use WebUSB at all (not a
 *   secure context, a permissions policy without `usb`), or the user has not
 *   granted this device.
 * - `protected-class` (certain): Chrome refuses interface class 0x0B (smart
 *   card) to ordinary pages; only an Isolated Web App with `usb-unrestricted`
 *   (or Node) may claim it.
 * - `os-held` (likely, `certain: false`): the operating system's smart-card
 *   stack normally holds this reader: Windows binds every reader to a driver
 *   (Microsoft's usbccid for class 0x0B, the vendor's for the others) and
 *   WebUSB needs WinUSB; Linux's pcscd (libccid) and macOS's smart-card
 *   service claim the readers libccid knows (class 0x0B and its vendor-class
 *   list); Linux also needs a udev rule for /dev/bus/usb. The claim itself
 *   tells for sure (`explainClaimError`).
 *
 * `findPermittedReaders(usb)` lists the readers the user already granted
 * (`getDevices()`), for reconnecting without the chooser.
 */
import { TransportError } from '../errors.js';
import type { UsbBackendLike, UsbDeviceLike } from './device.js';
import { isCcidReaderCandidate, USB_CLASS_SMART_CARD, VENDOR_CLASS_READER_FILTERS, deviceMatchesFilter } from './filters.js';

/** Where the driver runs. */
export type AccessContext = 'page' | 'isolated-app' | 'node';

/** The operating system, for the explanation. */
export type AccessPlatform = 'windows' | 'linux' | 'macos' | 'chromeos' | 'android' | 'other';

/** Why a reader cannot be claimed. */
export type AccessCause = 'protected-class' | 'os-held' | 'no-permission';

export interface PredictAccessOptions {
  context: AccessContext;
  /** Default: detected (`navigator.userAgentData.platform`, the user agent, or Node's `process.platform`). */
  platform?: AccessPlatform;
  /** The page may use WebUSB (secure context, permissions policy allows `usb`). Default: detected, true in Node. */
  usbAllowed?: boolean;
  /** The user granted this device (it came from requestDevice / getDevices). Default true. */
  granted?: boolean;
  /** An Isolated Web App has the `usb-unrestricted` permission (default true for 'isolated-app'). */
  unrestricted?: boolean;
}

export type AccessPrediction =
  | { ok: true; interfaceClass: number | undefined; platform: AccessPlatform }
  | {
      ok: false;
      cause: AccessCause;
      /** false for `os-held`: a prediction, the claim may still succeed (WinUSB installed, pcscd stopped, ...). */
      certain: boolean;
      interfaceClass: number | undefined;
      platform: AccessPlatform;
      /** What is in the way and the exact fix, for this platform (plain English). */
      explanation: string;
    };

/** The class of the reader's smart-card interface as the device lists it: 0x0B, else 0xFF, else the first interface's. */
export function readerInterfaceClass(device: Pick<UsbDeviceLike, 'configurations'>): number | undefined {
  const classes = device.configurations.flatMap((c) => c.interfaces.flatMap((i) => i.alternates.map((a) => a.interfaceClass)));
  if (classes.includes(USB_CLASS_SMART_CARD)) return USB_CLASS_SMART_CARD;
  if (classes.includes(0xff)) return 0xff;
  return classes[0];
}

/** The platform the code runs on, best effort. */
export function detectPlatform(): AccessPlatform {
  const g = globalThis as {
    navigator?: { userAgentData?: { platform?: string }; userAgent?: string; platform?: string };
    process?: { platform?: string };
  };
  const text = (g.navigator?.userAgentData?.platform ?? g.navigator?.userAgent ?? g.navigator?.platform ?? g.process?.platform ?? '').toLowerCase();
  if (/cros|chrome os|chromeos/.test(text)) return 'chromeos';
  if (/android/.test(text)) return 'android';
  if (/win/.test(text)) return 'windows';
  if (/mac|darwin/.test(text)) return 'macos';
  if (/linux/.test(text)) return 'linux';
  return 'other';
}

function detectUsbAllowed(context: AccessContext): boolean {
  if (context === 'node') return true;
  const g = globalThis as {
    isSecureContext?: boolean;
    document?: { permissionsPolicy?: { allowsFeature?(f: string): boolean }; featurePolicy?: { allowsFeature?(f: string): boolean } };
  };
  if (g.isSecureContext === false) return false;
  const policy = g.document?.permissionsPolicy ?? g.document?.featurePolicy;
  if (policy?.allowsFeature && !policy.allowsFeature('usb')) return false;
  return true;
}

function label(device: Pick<UsbDeviceLike, 'vendorId' | 'productId' | 'productName'>): string {
  const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const id = `${hex4(device.vendorId)}:${hex4(device.productId)}`;
  return device.productName ? `${device.productName} (${id})` : id;
}

/** True when the OS's own smart-card stack normally claims this reader on `platform`. */
function osClaims(device: UsbDeviceLike, interfaceClass: number | undefined, platform: AccessPlatform): boolean {
  if (platform === 'windows') return true; // every reader has a Windows driver; WebUSB needs WinUSB
  if (platform === 'linux' || platform === 'macos') {
    return interfaceClass === USB_CLASS_SMART_CARD || VENDOR_CLASS_READER_FILTERS.some((f) => deviceMatchesFilter(device, f));
  }
  return false;
}

/** The explanation of `cause` for `platform` (what the user sees, with the fix). */
export function explainAccess(cause: AccessCause, options: { platform: AccessPlatform; context: AccessContext; device?: string }): string {
  const reader = options.device ?? 'the card reader';
  switch (cause) {
    case 'no-permission':
      return (
        `This page has no permission to use ${reader}. ` +
        (options.context === 'isolated-app'
          ? 'Pre-grant the reader to the app with the WebUsbAllowDevicesForUrls policy, or choose it in the device chooser. '
          : 'Choose the reader in the browser\'s device chooser ("Connect reader"); the page must be served over HTTPS (or localhost) and no permissions policy may block "usb". ') +
        'See docs/deployment.md.'
      );
    case 'protected-class':
      return (
        `Chrome does not let ordinary web pages use smart-card readers (USB class 0x0B) such as ${reader}. ` +
        (options.platform === 'chromeos'
          ? 'On managed ChromeOS install this app as an Isolated Web App with the usb-unrestricted permission (kiosk route). '
          : 'Use the Isolated Web App build with the usb-unrestricted permission (managed ChromeOS), ') +
        'or a reader whose interface is not class 0x0B (the Castles EZ100PU or a vendor-class CCID reader), ' +
        'or the Web Smart Card API where Chrome offers it. See docs/deployment.md.'
      );
    case 'os-held':
      switch (options.platform) {
        case 'windows':
          return (
            `Windows has its own driver on ${reader}, so the browser cannot claim it. ` +
            'Give the reader the WinUSB driver: run Zadig (https://zadig.akeo.ie), Options > List All Devices, pick the reader, ' +
            'choose WinUSB, Replace Driver; then unplug and replug it. (Other smart-card programs stop seeing it; ' +
            'Device Manager > the reader > Update driver > the original driver undoes it.) See docs/deployment.md, Windows.'
          );
        case 'linux':
          return (
            `pcscd (the PC/SC daemon) holds ${reader}, or the browser may not open /dev/bus/usb. ` +
            'Stop it: sudo systemctl stop pcscd.socket pcscd (sudo systemctl mask pcscd.socket to keep it stopped), ' +
            'and add the udev rule from docs/deployment.md (e.g. /etc/udev/rules.d/70-webccid.rules with TAG+="uaccess" for the reader), ' +
            'then sudo udevadm control --reload-rules and replug the reader. See docs/deployment.md, Linux.'
          );
        case 'macos':
          return (
            `macOS's smart-card service holds ${reader} (its built-in CCID driver claims the readers it knows). ` +
            'A browser cannot take the reader from it; use a reader macOS has no driver for (the Castles EZ100PU without its vendor driver), ' +
            'or the Web Smart Card API, or another computer. See docs/deployment.md, macOS.'
          );
        default:
          return `The operating system is using ${reader}, so the browser cannot claim it. Close other smart-card programs and replug the reader. See docs/deployment.md.`;
      }
  }
}

/**
 * Predicts whether `device` can be claimed in `options.context` (see the
 * module comment). Reads only what the device object lists (no I/O).
 */
export function predictAccess(device: UsbDeviceLike, options: PredictAccessOptions): AccessPrediction {
  const platform = options.platform ?? detectPlatform();
  const interfaceClass = readerInterfaceClass(device);
  const fail = (cause: AccessCause, certain: boolean): AccessPrediction => ({
    ok: false,
    cause,
    certain,
    interfaceClass,
    platform,
    explanation: explainAccess(cause, { platform, context: options.context, device: label(device) }),
  });
  const usbAllowed = options.usbAllowed ?? detectUsbAllowed(options.context);
  if (options.context !== 'node' && (!usbAllowed || options.granted === false)) return fail('no-permission', true);
  if (interfaceClass === USB_CLASS_SMART_CARD) {
    const unrestricted = options.context === 'node' || (options.context === 'isolated-app' && (options.unrestricted ?? true));
    if (!unrestricted) return fail('protected-class', true);
  }
  if (osClaims(device, interfaceClass, platform)) return fail('os-held', false);
  return { ok: true, interfaceClass, platform };
}

/** The TransportError code `explainClaimError` gives for each cause (the prediction and the claim agree). */
export const ACCESS_CAUSE_CODES: Readonly<Record<AccessCause, string>> = Object.freeze({
  'protected-class': 'transport/protected-class',
  'os-held': 'transport/os-held',
  'no-permission': 'transport/no-permission',
});

/** A TransportError carrying a negative prediction (for callers that want to throw it). */
export function accessError(prediction: Extract<AccessPrediction, { ok: false }>): TransportError {
  switch (prediction.cause) {
    case 'protected-class':
      return new TransportError('transport/protected-class', prediction.explanation);
    case 'os-held':
      return new TransportError('transport/os-held', prediction.explanation);
    case 'no-permission':
      return new TransportError('transport/no-permission', prediction.explanation);
  }
}

/**
 * The readers this origin was already granted (`usb.getDevices()`), filtered to
 * what `CCID_REQUEST_FILTERS` would offer: reconnect to them without the chooser.
 */
export async function findPermittedReaders(usb: Pick<UsbBackendLike, 'getDevices'>): Promise<UsbDeviceLike[]> {
  const devices = await usb.getDevices();
  return devices.filter((d) => isCcidReaderCandidate(d));
}

/**
 * Why the Node tool sees no usable reader, for `webccid list` / `webccid probe` (exit code 3).
 *
 * The driver's own device list (src/node/index.ts) holds only devices it could use, so a reader
 * this user may not open, or one held by another driver, looks like no reader at all. This module
 * therefore lists every USB device the OS reports (the `usb` package's WebUSB with all devices
 * allowed: nusb reads sysfs / IOKit / SetupAPI, no open needed), opens each smart-card-class
 * (0x0B) or vendor-class (0xFF) device once to see what the OS says, and reads a
 * few facts of the host (is there a USB bus at all, is pcscd running). Every check is injectable
 * (`HostChecks`) so the tests run each platform's case.
 *
 * Causes, first match wins:
 * - `usb-unavailable`: listing USB devices failed (libusb could not start).
 * - `no-usb-bus` (Linux): `/dev/bus/usb` does not exist: a container or VM without the USB bus.
 * - `no-permission`: libusb answers LIBUSB_ERROR_ACCESS on open: Linux needs a udev rule.
 * - `windows-driver`: Windows, LIBUSB_ERROR_NOT_SUPPORTED (or ACCESS / NOT_FOUND) on open: the
 *   reader is bound to another driver (Microsoft's usbccid, the vendor's); libusb needs WinUSB.
 * - `held-by-pcscd` (Linux): the claim fails LIBUSB_ERROR_BUSY and pcscd runs (or its socket is
 *   there, so any PC/SC client starts it).
 * - `held-by-macos`: macOS, the claim fails (BUSY / ACCESS): the system's smart-card service
 *   (CryptoTokenKit, com.apple.ifdreader) holds the reader.
 * - `held`: the claim fails BUSY and nothing above explains it (another program, a kernel driver).
 * - `no-reader`: the OS lists no such device: nothing plugged in (or not passed through).
 * - `open-failed`: readers were listed but none could be opened, for another reason (the lines
 *   give each reader's error).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** A USB device the OS lists with a smart-card or vendor-class interface, as seen below WebUSB. */
export interface HostUsbDevice {
  vendorId: number;
  productId: number;
  /** What libusb answered to one open() (e.g. "LIBUSB_ERROR_ACCESS"); absent when it opened. */
  openError?: string;
}

/** The facts of the host the diagnosis reads. The defaults (`hostChecks()`) look at the real machine. */
export interface HostChecks {
  platform: NodeJS.Platform;
  exists(path: string): boolean;
  /** Names of the running processes (Linux: /proc/<pid>/comm); empty when unknown. */
  processNames(): string[];
  /** Every device with a 0x0B or 0xFF interface the OS lists, each opened once. Rejects when USB cannot be listed at all. */
  usbDevices(): Promise<HostUsbDevice[]>;
}

/** A reader WebUSB listed and what opening it for CCID gave (from the probe report). */
export interface SeenReader {
  id: string;
  error?: { code: string; message: string; detail?: string };
}

export type NoReaderCause =
  | 'usb-unavailable'
  | 'no-usb-bus'
  | 'no-permission'
  | 'windows-driver'
  | 'held-by-pcscd'
  | 'held-by-macos'
  | 'held'
  | 'no-reader'
  | 'open-failed';

export interface NoReaderDiagnosis {
  cause: NoReaderCause;
  /** What is wrong and the fix, as lines for the terminal. */
  lines: string[];
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** The checks on this machine. */
export function hostChecks(): HostChecks {
  return {
    platform: process.platform,
    exists: (p) => existsSync(p),
    processNames: () => {
      if (process.platform !== 'linux') return [];
      try {
        return readdirSync('/proc')
          .filter((d) => /^\d+$/.test(d))
          .map((d) => {
            try {
              return readFileSync(`/proc/${d}/comm`, 'utf8').trim();
            } catch {
              return '';
            }
          })
          .filter(Boolean);
      } catch {
        return [];
      }
    },
    usbDevices: async () => {
      // The `usb` package (3.x, over nusb) lists every device from the OS (sysfs, IOKit, SetupAPI)
      // without opening it; opening is where a missing permission or a foreign driver shows.
      const { WebUSB } = await import('usb');
      const out: HostUsbDevice[] = [];
      for (const device of await new WebUSB({ allowAllDevices: true }).getDevices()) {
        let classes: number[];
        try {
          classes = device.configurations.flatMap((c) => c.interfaces.flatMap((i) => i.alternates.map((a) => a.interfaceClass)));
        } catch {
          continue;
        }
        if (!classes.includes(0x0b) && !classes.includes(0xff)) continue;
        const entry: HostUsbDevice = { vendorId: device.vendorId, productId: device.productId };
        try {
          await device.open();
          await device.close();
        } catch (e) {
          entry.openError = e instanceof Error ? e.message : String(e);
        }
        out.push(entry);
      }
      return out;
    },
  };
}

const ACCESS = /LIBUSB_ERROR_ACCESS|access denied|permission denied/i;
const BUSY = /LIBUSB_ERROR_BUSY|resource busy|unable to claim/i;
// libusb's names (usb 2.x) and the OS errors nusb passes on (usb 3.x); the Windows wording of nusb
// for a device on another driver is not confirmed here (no Windows machine): both forms are matched.
const NOT_SUPPORTED = /LIBUSB_ERROR_NOT_SUPPORTED|LIBUSB_ERROR_NOT_FOUND|not supported|WinUSB/i;

function udevRule(devices: Array<{ vendorId: number; productId: number }>): string[] {
  const ids = devices.length > 0 ? devices : [{ vendorId: 0x0ca6, productId: 0x0010 }];
  return ids.map(
    (d) => `    SUBSYSTEM=="usb", ATTR{idVendor}=="${hex4(d.vendorId).toLowerCase()}", ATTR{idProduct}=="${hex4(d.productId).toLowerCase()}", MODE="0660", TAG+="uaccess"`,
  );
}

function pcscdState(host: HostChecks): 'running' | 'socket' | 'absent' {
  if (host.processNames().includes('pcscd')) return 'running';
  return host.exists('/run/pcscd/pcscd.comm') ? 'socket' : 'absent';
}

/**
 * The likely cause when no reader can be used, or undefined when one can (a reader listed and
 * opened). `readers`: what WebUSB listed and the probe made of each; `listError`: `getDevices()`
 * itself failed.
 */
export async function diagnoseNoReader(readers: readonly SeenReader[], host: HostChecks, listError?: string): Promise<NoReaderDiagnosis | undefined> {
  if (readers.some((r) => !r.error)) return undefined;
  const linux = host.platform === 'linux';
  if (linux && !host.exists('/dev/bus/usb')) {
    return {
      cause: 'no-usb-bus',
      lines: [
        'No USB bus is visible here: /dev/bus/usb does not exist.',
        'In a container pass it in (docker run --device /dev/bus/usb ..., or a bind mount of /dev/bus/usb);',
        'under WSL attach the reader with usbipd (usbipd attach --wsl --busid <BUSID>); in a VM pass the reader through.',
      ],
    };
  }
  let hidden: HostUsbDevice[];
  try {
    hidden = await host.usbDevices();
  } catch (e) {
    return {
      cause: 'usb-unavailable',
      lines: [`Listing the USB devices failed: ${listError ?? (e instanceof Error ? e.message : String(e))}.`, 'Check that libusb works here (the "usb" package and its native part).'],
    };
  }
  const listed = new Set(readers.map((r) => r.id));
  const refused = hidden.filter((d) => d.openError !== undefined && !listed.has(`${hex4(d.vendorId)}:${hex4(d.productId)}`));
  const names = (ds: HostUsbDevice[]) => ds.map((d) => `${hex4(d.vendorId)}:${hex4(d.productId)}`).join(', ');
  if (host.platform === 'win32' && refused.some((d) => NOT_SUPPORTED.test(d.openError!) || ACCESS.test(d.openError!))) {
    return {
      cause: 'windows-driver',
      lines: [
        `Windows has another driver on the reader (${names(refused)}): Microsoft's usbccid or the vendor's. libusb can only open a device bound to WinUSB.`,
        'Install WinUSB for it with Zadig (https://zadig.akeo.ie, libwdi): Options > List All Devices, pick the reader, WinUSB, Replace Driver; then replug.',
        "Windows' own smart-card stack no longer sees the reader afterwards (docs/deployment.md, Windows, says how to undo).",
      ],
    };
  }
  if (refused.some((d) => ACCESS.test(d.openError!))) {
    const denied = refused.filter((d) => ACCESS.test(d.openError!));
    return {
      cause: 'no-permission',
      lines: [
        `This user may not open the reader (${names(denied)}: LIBUSB_ERROR_ACCESS), so it is not listed.`,
        ...(linux
          ? [
              'Add a udev rule, e.g. /etc/udev/rules.d/70-webccid.rules:',
              ...udevRule(denied),
              'then: sudo udevadm control --reload-rules && sudo udevadm trigger, and replug the reader (or run as root once to check).',
            ]
          : ['Run with the rights to open USB devices, or check what holds the reader.']),
      ],
    };
  }
  const errors = readers.map((r) => `${r.error!.message} ${r.error!.detail ?? ''}`);
  const busy = readers.length > 0 && errors.some((t) => BUSY.test(t) || (host.platform === 'darwin' && ACCESS.test(t)));
  if (busy && linux) {
    const pcscd = pcscdState(host);
    if (pcscd !== 'absent') {
      return {
        cause: 'held-by-pcscd',
        lines: [
          pcscd === 'running'
            ? 'pcscd (the PC/SC daemon, with libccid) is running and holds the reader (LIBUSB_ERROR_BUSY on claim).'
            : 'pcscd.socket is active: any PC/SC client starts pcscd, which then holds the reader (LIBUSB_ERROR_BUSY on claim).',
          'Stop it: sudo systemctl stop pcscd.socket pcscd (and sudo systemctl mask pcscd.socket to keep it stopped; unmask to undo).',
        ],
      };
    }
  }
  if (busy && host.platform === 'darwin') {
    return {
      cause: 'held-by-macos',
      lines: [
        "macOS's smart-card service (CryptoTokenKit, com.apple.ifdreader) holds the reader: its CCID driver claims the readers it knows.",
        'A program cannot take the reader from it; use a reader it has no driver for, or see docs/deployment.md, macOS.',
      ],
    };
  }
  if (busy) {
    return {
      cause: 'held',
      lines: ['Another program or driver holds the reader (LIBUSB_ERROR_BUSY on claim): close other smart-card software and replug the reader.'],
    };
  }
  if (readers.length > 0) {
    return { cause: 'open-failed', lines: ['No reader could be opened:', ...readers.map((r) => `  ${r.id}: ${r.error!.message} [${r.error!.code}]`)] };
  }
  return {
    cause: 'no-reader',
    lines: [
      listError ? `Listing USB devices failed: ${listError}` : 'No USB device with a smart-card (class 0x0B) or vendor-class (0xFF) interface is connected.',
      host.platform === 'win32'
        ? 'Plug the reader in (Device Manager should show it).'
        : host.platform === 'darwin'
          ? 'Plug the reader in (System Information > USB should show it).'
          : 'Plug the reader in (lsusb should show it); in a VM or container, pass it through.',
    ],
  };
}

/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * The configuration a virtual USB device declares, as the W3C WebUSB objects
 * (`USBConfiguration`, `USBInterface`, `USBAlternateInterface`,
 * `USBEndpoint`) a page reads from `device.configurations`. One alternate
 * setting (0) per interface; `claimed` is read live from the device.
 */

/** One endpoint of an alternate setting (W3C `USBEndpoint`). */
export interface VirtualEndpointInit {
  endpointNumber: number;
  direction: USBDirection;
  type: USBEndpointType;
  packetSize: number;
  /** bInterval, for the configuration descriptor only. */
  interval?: number;
}

/** One interface (alternate setting 0 only) of a configuration. */
export interface VirtualInterfaceInit {
  interfaceNumber: number;
  interfaceClass: number;
  interfaceSubclass: number;
  interfaceProtocol: number;
  interfaceName?: string | null;
  endpoints: VirtualEndpointInit[];
}

export interface VirtualConfigurationInit {
  configurationValue: number;
  configurationName?: string | null;
  interfaces: VirtualInterfaceInit[];
}

class VirtualEndpoint implements USBEndpoint {
  readonly endpointNumber: number;
  readonly direction: USBDirection;
  readonly type: USBEndpointType;
  readonly packetSize: number;
  constructor(init: VirtualEndpointInit) {
    this.endpointNumber = init.endpointNumber;
    this.direction = init.direction;
    this.type = init.type;
    this.packetSize = init.packetSize;
  }
}

class VirtualAlternateInterface implements USBAlternateInterface {
  readonly alternateSetting = 0;
  readonly interfaceClass: number;
  readonly interfaceSubclass: number;
  readonly interfaceProtocol: number;
  readonly interfaceName: string | null;
  readonly endpoints: USBEndpoint[];
  constructor(init: VirtualInterfaceInit) {
    this.interfaceClass = init.interfaceClass;
    this.interfaceSubclass = init.interfaceSubclass;
    this.interfaceProtocol = init.interfaceProtocol;
    this.interfaceName = init.interfaceName ?? null;
    this.endpoints = init.endpoints.map((e) => new VirtualEndpoint(e));
  }
}

class VirtualInterface implements USBInterface {
  readonly interfaceNumber: number;
  readonly alternate: USBAlternateInterface;
  readonly alternates: USBAlternateInterface[];
  constructor(
    init: VirtualInterfaceInit,
    private readonly isClaimed: (n: number) => boolean,
  ) {
    this.interfaceNumber = init.interfaceNumber;
    this.alternate = new VirtualAlternateInterface(init);
    this.alternates = [this.alternate];
  }
  get claimed(): boolean {
    return this.isClaimed(this.interfaceNumber);
  }
}

/** A configuration; `isClaimed` tells whether the device has an interface claimed. */
export class VirtualConfiguration implements USBConfiguration {
  readonly configurationValue: number;
  readonly configurationName: string | null;
  readonly interfaces: USBInterface[];
  constructor(init: VirtualConfigurationInit, isClaimed: (n: number) => boolean) {
    this.configurationValue = init.configurationValue;
    this.configurationName = init.configurationName ?? null;
    this.interfaces = init.interfaces.map((i) => new VirtualInterface(i, isClaimed));
  }
}

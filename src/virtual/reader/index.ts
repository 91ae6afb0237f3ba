/**
 * The virtual CCID reader (see reader.ts for the model and its options).
 * This index is the folder's public face: the names other modules import.
 *
 * The folder, by concern:
 * - reader.ts: the `VirtualReader` class: the USB device, its slots, the
 *   command dispatch and the faults applied to a command;
 * - options.ts: options, counters, presets and options → class descriptor;
 * - usb-side.ts: endpoints, descriptors, control-IN requests;
 * - slot.ts: a slot's state and status, the card's wire time;
 * - commands.ts: what each PC_to_RDR message does to a slot;
 * - frames.ts: RDR_to_PC answer frames;
 * - parameters.ts: power-on, parameters, clock and rate, PPS;
 * - exchange.ts: XfrBlock at the TPDU, short and extended APDU and character levels;
 * - secure.ts: secure PIN entry (PC_to_RDR_Secure);
 * - abort.ts: the two-part Abort.
 */
export { createVirtualReader, VirtualReader } from './reader.js';
export { VIRTUAL_READER_ENDPOINTS } from './usb-side.js';
export type { VirtualReaderOptions, VirtualReaderStats, SecureRequest, SecureOutcome } from './options.js';

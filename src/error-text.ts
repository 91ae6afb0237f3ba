/**
 * The English sentences of the driver's errors, kept out of the driver core: a driver error is
 * built from a code and named facts (`detail`), and its `message` is the compact
 * `code (fact value, ...)` unless a formatter is registered (src/errors.ts). The layers above
 * have their tables beside their code (src/hca/error-text.ts, src/session/error-text.ts,
 * src/components/error-text.ts); src/error-text-all.ts joins them to this one as the entry
 * `webccid/error-text`. A page showing only the driver's errors in English (the driver console)
 * imports this module alone.
 *
 * - `ERROR_TEXT`: code -> template(s). A template names the facts it shows as `{fact}`. Where
 *   the sites of one code say different things, they carry different facts, and the code has
 *   a list of templates: the one whose placeholders are exactly the error's fact names is used
 *   (else the first whose placeholders are all present). A few entries are functions (plural
 *   forms, the status-word descriptions of src/iso7816/status-text.ts).
 * - `FACT_WORDS`: facts whose value is a name (a T=1 block's `problem`: `wrong-edc`), with the
 *   English words a sentence shows for each name.
 * - `errorText(err)`: the English sentence of any error, registered or not.
 * - `useEnglishErrorText()`: errors created afterwards carry the English sentence as `message`.
 *   `webccid/node` calls it (Node programs and the probe command line read the messages); the
 *   browser entry does not (pages show their own localised text, chosen by `code`).
 *
 * test/error-codes.test.ts checks that every code here is documented in docs/errors.md, that
 * every driver code built from facts has an entry, and that the facts at each throw site fill
 * a template with no placeholder left over.
 */
import { setErrorMessageFormatter, compactErrorMessage, WebCcidError, type ErrorDetail } from './errors.js';
import { describeStatusWord } from './iso7816/status-text.js';

export type ErrorTemplate = string | readonly string[] | ((detail: ErrorDetail) => string);

/** A status word's description, as the ApduError family says it (`detail.sw`: 4 hex digits). */
const statusWord = (d: ErrorDetail): string => `${describeStatusWord(parseInt(String(d.sw), 16))} (SW ${d.sw})`;

/** code -> the English sentence(s), `{fact}` for a fact of `detail`. */
export const ERROR_TEXT: Readonly<Record<string, ErrorTemplate>> = {
  // src/errors.ts
  aborted: 'The operation was cancelled.',
  'apdu/pin-incorrect': (d) => `Wrong PIN: ${d.retriesLeft} ${d.retriesLeft === 1 ? 'try' : 'tries'} left.`,
  'apdu/pin-blocked': 'The PIN is blocked: unblock the card with its PUK.',

  // The CCID transport (src/ccid/transport.ts) and messages (src/ccid/messages.ts).
  'transport/stall': 'The reader stalled its bulk-{direction} endpoint; it was reset.',
  'ccid/message-too-long': "A {length}-byte message exceeds the reader's dwMaxCCIDMessageLength ({dwMaxCCIDMessageLength}).",
  'ccid/slot-busy': 'Slot {slot} already has a command in flight.',
  'transport/timeout': 'The reader did not answer {command} within {ms} ms.',
  'ccid/unexpected-message': [
    '{command} was answered with {answer}, not {expected}.',
    'Message type {bMessageType} is not one of the {expected} messages.',
    'The reader did not ask for the rest of a chained APDU after {sent} of {length} bytes (bChainParameter 0x10).',
  ],
  'ccid/length-mismatch': [
    'dwLength says {dwLength} data bytes but the frame carries {carried}.',
    "dwLength {dwLength} is larger than the reader's maximum message ({max}).",
  ],
  'ccid/bad-field': [
    '{field} must be an unsigned {bits}-bit integer, got {value}.',
    'RDR_to_PC_NotifySlotChange needs at least one slot; got {slots}.',
    // The PIN structures of PC_to_RDR_Secure (src/ccid/secure.ts).
    'PIN structure field {pinField} must be an unsigned {bits}-bit integer, got {value}.',
    'PIN structure field bTeoPrologue must be 3 bytes, not {bTeoPrologueLength}.',
    'PIN structure field abPINApdu must hold at least CLA INS P1 P2, not {abPINApduLength} bytes.',
    'bPINOperation {bPINOperation} is not PIN verification (00) or modification (01).',
    'PIN format {format} needs 1 <= minLength <= maxLength, a block of 1..15 bytes and a pad byte.',
    'PIN format {format}: {maxLength} digits do not fit in a {blockLength}-byte {encoding} block.',
    'The PIN command header must be CLA INS P1 P2 (4 bytes), not {headerLength}.',
    'A PIN modification structure has one format: old and new need the same encoding, block length and pad byte ' +
      '(old: {oldEncoding}, {oldBlockLength} bytes, pad {oldPadByte}; new: {newEncoding}, {newBlockLength} bytes, pad {newPadByte}).',
  ],
  // Descriptors (src/ccid/descriptor.ts, src/usb/config-descriptor.ts) and the reader (src/ccid/reader.ts).
  'ccid/bad-descriptor': [
    'CCID class descriptor too short: {length} bytes, bLength {bLength}; need 54.',
    'Not a CCID class descriptor: bDescriptorType {bDescriptorType}.',
    '{field} must be an integer 0..{max}, got {value}.',
    'The reader did not return its configuration descriptor (status {status}, {length} bytes).',
    'Not a configuration descriptor: {length} bytes, bLength {bLength}, bDescriptorType {bDescriptorType}, wTotalLength {wTotalLength}.',
    'The descriptor at offset {offset} (bLength {bLength}) runs past wTotalLength {wTotalLength}.',
    'The descriptor at offset {offset} (type {bDescriptorType}) has bLength {bLength}, below {min}.',
    "An extra descriptor's bLength ({extraBLength}) must equal its length ({length}), 2..255.",
    'Configuration descriptor too long: {totalLength} bytes.',
  ],
  'ccid/no-interface': [
    'CCID interface {withoutBulkPair} has no bulk-in/bulk-out pair (ICCD token?).',
    'No CCID interface (class 0x0B, or 0xFF with a 0x21 descriptor).',
    'Interface {interfaceNumber} is not a usable CCID interface.',
  ],
  'ccid/no-class-descriptor': 'The CCID interface ({interfaceNumber}) carries no CCID class descriptor (type 0x21).',
  'ccid/unsupported-level':
    'This reader offers only {exchangeLevel}-level exchanges; this driver drives TPDU, short APDU and extended APDU readers.',
  'ccid/bad-slot': 'Slot {slot} does not exist: this reader has {slots} slot(s).',
  'transport/closed': ['The reader was closed.', 'The reader was closed during {during}.', 'The reader is not open ({notOpen}).'],
  'transport/disconnected': ['The reader was unplugged.', '{reader} was unplugged.', 'The reader was unplugged ({what}).'],

  // What WebUSB (or the usb package) rejected with (src/usb/errors.ts, mapUsbError): while opening
  // or claiming a reader, the cause and the fix (docs/deployment.md).
  'transport/protected-class':
    'Chrome keeps ordinary web pages from smart-card readers (USB class 0x0B) such as {reader}. ' +
    'Run this page as an Isolated Web App with the usb-unrestricted permission (managed ChromeOS kiosk), ' +
    'use a reader that is not class 0x0B (the Castles EZ100PU, a vendor-class CCID reader), ' +
    'or the Web Smart Card API where there is one. See docs/deployment.md.',
  'transport/no-permission':
    "This page may not use {reader}: choose the reader again in the browser's chooser; " +
    'the page must be served over HTTPS (or localhost), and no permissions policy may block "usb".',
  'transport/os-held':
    'The operating system holds {reader}, so the browser cannot {stage} it. ' +
    'Windows: give the reader the WinUSB driver (Zadig, or our INF). ' +
    'Linux: stop pcscd (sudo systemctl stop pcscd.socket pcscd) and add our udev rule. ' +
    "macOS: the system's smart-card service holds CCID readers. All in docs/deployment.md.",

  // ISO/IEC 7816 codecs (src/iso7816/apdu.ts, atr.ts, params.ts, t1-card.ts), src/bytes.ts.
  'protocol/bad-apdu': [
    'APDU header bytes must be integers 0..255; got {header}.',
    'APDU data too long: {nc} bytes (at most {max}).',
    'APDU Le must be an integer 1..{max}; got {le}.',
    'APDU too short: {length} bytes (a header is 4).',
    'Truncated extended APDU length field ({extendedLength} bytes).',
    'Extended Lc of {lc} is not allowed.',
    'APDU length {length} does not match Lc {lc} (extended length fields: {extended}).',
  ],
  'protocol/bad-response': 'Response too short: {length} bytes (need SW1 SW2).',
  'protocol/bad-atr': [
    'Empty ATR ({length} bytes).',
    'ATR of {length} bytes: at most {max} allowed.',
    'Bad TS byte {ts}.',
    'ATR truncated in {truncatedIn}.',
    'Malformed ATR: {defects}.',
    'TA1 {ta1} holds a reserved Fi or Di.',
  ],
  'protocol/bad-parameters': '{field} must be a byte, got {value}.',
  'protocol/t1-bad-block': [
    '{field} must be {min}..{max}.',
    'I-block INF too long: {infLength} bytes (at most {max}).',
    'R-block error code must be 0, 1 or 2, not {rBlockError}.',
    'Bad T=1 block: {problem}.',
    'Bad T=1 block ({length} bytes): {problem}.',
  ],
  'bytes/bad-hex': 'Not a hex byte string: use pairs of 0-9 / A-F digits.',
  // The T=0 host (src/iso7816/t0.ts).
  'protocol/apdu-too-long': [
    'T=0 cannot carry {nc} command bytes (at most 255 without ENVELOPE).',
    'Extended APDU (Nc {nc}, Ne {ne}; a short APDU has Nc 255 and Ne 256 at most) on a short-APDU reader.',
    'The PIN command ({pinCommandLength} bytes) does not fit in one T=1 block (IFSC {ifsc}).',
  ],
  'protocol/t0-bad-response': [
    'No T=0 exchange in progress.',
    'T=0 answer too short: {length} bytes.',
    'The card keeps answering 6Cxx (the command was resent with its Le {resends} times).',
    'The card keeps answering 61xx: response too long ({length} bytes after {getResponses} GET RESPONSE).',
  ],
  // PPS (src/iso7816/pps.ts).
  'protocol/pps-failed': [
    'PPS: {field} must be an integer 0..{max}, got {value}.',
    'PPS message too short: {length} bytes.',
    'PPSS is {ppss}, not 0xFF (255).',
    'PPS0 bit 8 is reserved (PPS0 {pps0}).',
    'PPS message of {length} bytes, PPS0 says {expected}.',
    'Bad PCK {pck}: the PPS message does not XOR to 0.',
    'The card refused the PPS (T={protocol}).',
    'The card refused the PPS (T={protocol}, Fi {fi}, Di {di}).',
    'The reader refused the negotiated parameters (SetParameters for T={bProtocolNum}, negotiation {negotiation}).',
  ],
  // The T=1 host (src/iso7816/t1.ts).
  'protocol/t1-unrecoverable': [
    'No T=1 exchange in progress.',
    'T=1 resynchronisation failed (S(RESYNCH) sent {maxResynch} times).',
    'The card sent more than {maxCardRequests} S requests in one exchange.',
    'The T=1 engine did not produce the PIN command block (it returned {t1Action}).',
    'The card did not take the PIN command block from the pinpad (the T=1 engine would send I-block PCB {pcb} again); ' +
      'it is not sent again (ask the user to enter the PIN again).',
  ],
  'protocol/t1-aborted': 'The card aborted the T=1 chain (S(ABORT)).',
  'protocol/t1-resynchronised': 'T=1 link resynchronised: the command may or may not have run on the card; send it again only if that is safe.',
  'protocol/t1-endless-exchange': [
    'S(WTX) asked for more than {maxWtxBwt} BWT in one exchange.',
    'The card chained over {maxResponse} bytes (no APDU response is longer).',
    'The card sent more than {maxEmptyChained} empty chained I-blocks in a row.',
  ],
  // The card's status words (ApduError, src/iso7816/status.ts: statusError, checkResponse).
  'apdu/warning': statusWord,
  'apdu/memory-failure': statusWord,
  'apdu/wrong-length': statusWord,
  'apdu/status': statusWord,
  'apdu/security-not-satisfied': statusWord,
  'apdu/conditions-not-satisfied': statusWord,
  'apdu/incorrect-data': statusWord,
  'apdu/func-not-supported': statusWord,
  'apdu/file-not-found': statusWord,
  'apdu/record-not-found': statusWord,
  'apdu/not-enough-memory': statusWord,
  'apdu/wrong-p1p2': statusWord,
  'apdu/ins-not-supported': statusWord,
  'apdu/cla-not-supported': statusWord,

  // SlotError (slotErrorFrom): the reader's bError, CCID 1.10 table 6.2-2.
  'ccid/card-absent': ['No card in the reader.', 'The card in slot {slot} was removed; insert it and connect again.'],
  'ccid/cmd-aborted': 'The reader aborted the command.',
  'ccid/icc-mute': 'The card did not answer (ICC mute).',
  'ccid/xfr-parity-error': 'Parity error while talking to the card.',
  'ccid/xfr-overrun': 'Buffer overrun while talking to the card.',
  'ccid/hw-error': 'The reader reported a hardware error.',
  'ccid/bad-atr-ts': 'The card sent an ATR with an invalid TS byte.',
  'ccid/bad-atr-tck': 'The card sent an ATR with a wrong check byte (TCK).',
  'ccid/icc-protocol-not-supported': 'The reader does not support the card protocol.',
  'ccid/icc-class-not-supported': 'The reader does not support the card voltage class.',
  'ccid/procedure-byte-conflict': 'The card sent an unexpected T=0 procedure byte.',
  'ccid/deactivated-protocol': 'The protocol is deactivated in the reader.',
  'ccid/busy-with-auto-sequence': 'The reader is busy with an automatic sequence (PPS or activation).',
  'ccid/pin-timeout': 'No PIN was entered on the reader in time.',
  'ccid/pin-cancelled': 'PIN entry was cancelled on the reader.',
  'ccid/cmd-slot-busy': 'The slot is busy with another command.',
  'ccid/command-not-supported': 'The reader does not support this command.',
  'ccid/bad-parameter': "The reader rejected the command's parameter at offset {offset}.",
  'ccid/slot-error': 'Reader error {bError} ({range}).',
  'transport/babble': 'The reader sent more data than a CCID message can hold.',
  'ccid/malformed-frame': [
    'Protocol data structure for T={protocol} is not defined.',
    'Protocol data structure for T={protocol} has {length} bytes, expected {expected}.',
    'A CCID frame needs a 10-byte header; got {length} bytes.',
    '{message} carries 8 data bytes, not {dataBytes}.',
    'Empty interrupt message ({interruptBytes} bytes).',
    'RDR_to_PC_NotifySlotChange without bmSlotICCState ({notifySlotChangeBytes} byte).',
    'RDR_to_PC_HardwareError is 4 bytes, got {hardwareErrorBytes}.',
    'PC_to_RDR_Secure without bPINOperation ({secureBytes} bytes).',
    'PIN {structure} structure truncated: {length} bytes after bPINOperation.',
    'The reader chained its answer without end ({chainedParts} parts).',
  ],
  'ccid/stale-limit': 'Too many out-of-sequence answers on slot {slot}.',
  // The connection (src/ccid/connection.ts), activation (activation.ts), the TPDU link (tpdu-link.ts)
  // and the pinpad exchange (pinpad.ts).
  'ccid/module-load-failed': "The driver's {part} could not be loaded; check the network connection and try again.",
  'ccid/not-connected': 'This connection was closed; connect to the card again.',
  'protocol/no-common-protocol':
    'No protocol in common: the card offers {card} (specific mode: {specificMode}), the reader supports {reader}, the caller accepts {accepted}.',
  'ccid/pinpad-unsupported': 'This reader has no pinpad for PIN {operation} (bPINSupport); enter the PIN on screen instead.',
  'ccid/pin-mismatch': 'The new PIN and its confirmation keyed on the reader differ; nothing was changed.',
  'ccid/pin-length': 'The PIN keyed on the reader was too short or too long; the card was not asked.',
  'transport/failed': ['Only {written} of {length} bytes reached the reader.', 'Could not {stage} {reader}: {message}', 'USB {what} failed: {message}'],
};

/**
 * Facts whose value is a name (a short token the driver core carries instead of prose): the
 * English words that replace the name in a sentence. A name not listed is shown as it is.
 */
export const FACT_WORDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // protocol/t1-bad-block (src/iso7816/t1.ts): what makes a T=1 block invalid.
  problem: {
    'too-short': 'shorter than prologue and EDC',
    'len-ff': 'LEN = FF is reserved',
    'len-mismatch': 'LEN does not match the block length',
    'wrong-edc': 'wrong EDC',
    'pcb-rfu': 'PCB has RFU bits set',
    'r-block-inf': 'R-block with INF',
    's-block-type': 'unknown S-block type',
    's-block-inf': 'wrong S-block INF: S(IFS) carries one byte 1..254, S(WTX) one byte, the others none',
  },
};

const PLACEHOLDER = /\{(\w+)\}/g;

/** The `{fact}` names of a template string. */
export function templateFacts(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** A table of sentences and the words of its named facts. */
export interface ErrorTextTable {
  text: Readonly<Record<string, ErrorTemplate>>;
  words: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The driver's table. */
export const DRIVER_ERROR_TEXT: ErrorTextTable = { text: ERROR_TEXT, words: FACT_WORDS };

function fill(template: string, detail: ErrorDetail, words: ErrorTextTable['words']): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(name in detail)) return whole;
    const value = String(detail[name]);
    return words[name]?.[value] ?? value;
  });
}

/** The English sentence for a code and its facts, or undefined when the table (default: the driver's) has none. */
export function englishErrorText(code: string, detail: ErrorDetail, table: ErrorTextTable = DRIVER_ERROR_TEXT): string | undefined {
  const entry = table.text[code];
  if (entry === undefined) return undefined;
  if (typeof entry === 'function') return entry(detail);
  if (typeof entry === 'string') return fill(entry, detail, table.words);
  const names = Object.keys(detail).sort().join();
  const exact = entry.find((t) => [...new Set(templateFacts(t))].sort().join() === names);
  const fits = exact ?? entry.find((t) => templateFacts(t).every((n) => n in detail));
  return fits === undefined ? undefined : fill(fits, detail, table.words);
}

/**
 * The English sentence of an error: for a driver error built from facts, the table's sentence
 * (whether or not `useEnglishErrorText` was called); for any other error, its message.
 */
export function errorText(err: unknown, table: ErrorTextTable = DRIVER_ERROR_TEXT): string {
  if (!(err instanceof WebCcidError)) return err instanceof Error ? err.message : String(err);
  if (err.message !== compactErrorMessage(err.code, err.detail)) return err.message;
  return englishErrorText(err.code, err.detail, table) ?? err.message;
}

/** From now on, errors built from facts carry the English sentence as `message`. */
export function useEnglishErrorText(table: ErrorTextTable = DRIVER_ERROR_TEXT): void {
  setErrorMessageFormatter((code, detail) => englishErrorText(code, detail, table));
}

/**
 * `checkProfile`: an HCA profile's values checked once, before any command is sent (values in
 * range, methods the operations implement, PIN blocks that can hold the PIN). A profile is data
 * (src/hca/profile.ts); this is where a corrected profile with a typo is refused, naming the field.
 */
import { fromHex } from '../bytes.js';
import { HcaError } from './errors.js';
import type { HCA_FACT_WORDS } from './error-text.js';
import { digestLength } from './format.js';
import type { HcaProfileValues, PinEncoding } from './profile-data.js';

function isByte(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff;
}

function isFid(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
}

/** The values of a profile the operations use, checked once. */
export interface CheckedProfile {
  aid: Uint8Array;
  atrs: Uint8Array[];
  cla: number;
}

/** The rules of a profile's fields, by name (their words: HCA_FACT_WORDS.profileRule). */
type ProfileRule = keyof typeof HCA_FACT_WORDS.profileRule;

/**
 * Checks that a profile is usable (values in range, known methods, PIN blocks that fit).
 * Throws `HcaError('hca/bad-profile')` naming the field.
 */
export function checkProfile(profile: HcaProfileValues): CheckedProfile {
  // The rule broken is a name; its words are HCA_FACT_WORDS.profileRule (src/hca/error-text.ts).
  const bad = (field: string, profileRule: ProfileRule) => new HcaError('hca/bad-profile', { field, profileRule });
  const hex = (field: string, text: unknown): Uint8Array => {
    if (typeof text !== 'string') throw bad(field, 'not-hex');
    try {
      return fromHex(text);
    } catch (e) {
      throw new HcaError('hca/bad-profile', { field, profileRule: 'not-hex' }, { cause: e });
    }
  };
  const aid = hex('aid', profile.aid?.value);
  if (aid.length < 5 || aid.length > 16) throw bad('aid', 'aid-length');
  const application = profile.application?.value;
  if (application?.selectBy !== 'aid' && application?.selectBy !== 'fid') throw bad('application', 'select-by');
  if (application.selectBy === 'fid' && !isFid(application.fid)) throw bad('application', 'fid');
  const cla = profile.commandClass?.value;
  if (!isByte(cla) || cla === 0xff || (cla < 0x80 && (cla & 0x1c) !== 0)) throw bad('commandClass', 'class-byte');
  for (const field of ['pin', 'puk'] as const) {
    const protection = profile[field]?.protection?.value as string;
    if (protection !== 'plain' && protection !== 'vendor-wrapped') throw bad(`${field}.protection`, 'protection');
  }
  const atrList = profile.atrs?.value;
  if (!Array.isArray(atrList)) throw bad('atrs', 'not-list');
  const atrs = atrList.map((a, i) => hex(`atrs[${i}]`, a?.hex));
  const files = profile.files;
  for (const name of ['cardInfo', 'basicData', 'serialNumber'] as const) {
    if (!isFid(files?.[name]?.value?.fid)) throw bad(`files.${name}`, 'fid');
  }
  const certs = files.certificates?.value;
  if (!Array.isArray(certs) || certs.length !== 4 || !certs.every(isFid)) throw bad('files.certificates', 'four-fids');
  const { pin, puk, signing } = profile;
  if (!isByte(pin?.reference?.value)) throw bad('pin.reference', 'not-byte');
  if (!isByte(puk?.reference?.value)) throw bad('puk.reference', 'not-byte');
  const min = pin.minLength?.value;
  const max = pin.maxLength?.value;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min || max > 16) throw bad('pin.minLength/maxLength', 'pin-lengths');
  if (!Number.isInteger(puk.length?.value) || puk.length.value < 1 || puk.length.value > 16) throw bad('puk.length', 'puk-length');
  const checkEncoding = (field: string, e: PinEncoding | undefined, digits: number) => {
    if (!e || (e.encoding !== 'ascii' && e.encoding !== 'bcd')) throw bad(field, 'encoding');
    if (!Number.isInteger(e.blockLength) || e.blockLength < 1 || e.blockLength > 255) throw bad(field, 'block-length');
    if (!isByte(e.padByte)) throw bad(field, 'pad-byte');
    const needed = e.encoding === 'ascii' ? digits : Math.ceil(digits / 2);
    if (needed > e.blockLength) throw new HcaError('hca/bad-profile', { field, blockLength: e.blockLength, pinLength: digits });
  };
  checkEncoding('pin.encoding', pin.encoding?.value, max);
  const charset = profile.pinRule?.charset;
  if (charset !== undefined && charset !== 'digits' && charset !== 'letters-and-digits') throw bad('pinRule.charset', 'charset');
  checkEncoding('puk.encoding', puk.encoding?.value, puk.length.value);
  const tries = pin.maxTries?.value;
  if (!Number.isInteger(tries) || tries < 1 || tries > 15) throw bad('pin.maxTries', 'max-tries');
  if ((pin.statusMethod?.value as string) !== 'verify-without-data') throw bad('pin.statusMethod', 'status-method');
  const unblock = profile.unblock?.value?.method as string;
  if (unblock !== 'reset-retry-counter' && unblock !== 'verify-puk-then-reset') throw bad('unblock.method', 'method');
  const method = signing?.method?.value as string;
  if (method !== 'pso-cds' && method !== 'internal-authenticate') throw bad('signing.method', 'method');
  if (!isByte(signing.keyReference?.value)) throw bad('signing.keyReference', 'not-byte');
  if (!isByte(signing.algorithmReference?.value)) throw bad('signing.algorithmReference', 'not-byte');
  if ((signing.input?.value as string) !== 'digest-info') throw bad('signing.input', 'signing-input');
  if (digestLength(signing.hash?.value as string) === undefined) throw bad('signing.hash', 'hash');
  const bits = signing.keyBits?.value;
  if (!Number.isInteger(bits) || bits < 512 || bits > 8192 || bits % 8 !== 0) throw bad('signing.keyBits', 'key-bits');
  return { aid, atrs, cla };
}

/**
 * The parts of the driver loaded on first use (the TPDU link at connect to a TPDU-level reader,
 * the pinpad exchange at the first pinpad use) made unloadable, as when a browser lost the
 * network after the page loaded: the caller gets CcidError 'ccid/module-load-failed' (docs/errors.md)
 * with the loader's error as its cause, before any command goes out. An APDU-level reader never
 * loads the TPDU link, so it connects and exchanges APDUs as usual.
 */
import { describe, expect, it, vi } from 'vitest';
import { CcidError } from '../src/errors.js';
import { PC_to_RDR_Secure } from '../src/ccid/messages.js';
import { HCA_PROFILE } from '../src/hca/profile.js';
import { createHcaLikeCard, createT0Card, createVirtualPinpad } from '../src/virtual/index.js';
import type { VirtualReaderPresetName } from '../src/virtual/index.js';
import { sw, openStacksClosedAfterEach, SELECT_HCA } from './helpers/stack.js';

vi.mock('../src/ccid/tpdu-link.js', () => {
  throw new TypeError('Failed to fetch dynamically imported module: tpdu-link.js');
});
vi.mock('../src/ccid/pinpad.js', () => {
  throw new TypeError('Failed to fetch dynamically imported module: pinpad.js');
});

const stack = openStacksClosedAfterEach();

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

describe('a part of the driver that cannot be loaded', () => {
  it.each<VirtualReaderPresetName | 'castles-ez100pu'>(['castles-ez100pu', 'castles-ezccid'])(
    'TPDU-level reader (%s): connect() is ccid/module-load-failed, nothing was sent, the card stays unpowered',
    async (preset) => {
      const { reader, sent } = await stack({ preset, card: createHcaLikeCard() });
      const e = await failure(reader.connect(0));
      expect(e).toBeInstanceOf(CcidError);
      expect(e).toMatchObject({ code: 'ccid/module-load-failed' });
      expect((e as CcidError).cause).toBeDefined();
      expect(sent).toEqual([]);
      expect((await reader.status(0)).state).toBe('present');
    },
  );

  it.each<VirtualReaderPresetName>(['inmax-dwr18-hpc', 'omnikey-3121'])('APDU-level reader (%s): T=0 and T=1 cards work without the TPDU link', async (preset) => {
    for (const card of [createHcaLikeCard(), createT0Card()]) {
      const { reader } = await stack({ preset, card });
      const c = await reader.connect(0);
      expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    }
  });

  it('pinpad: verifyPinSecure() is ccid/module-load-failed and sends no Secure command', async () => {
    const pinpad = createVirtualPinpad();
    const { reader, sent } = await stack({ preset: 'ideal', pinpad: true, card: createHcaLikeCard(), onSecure: pinpad.onSecure });
    const c = await reader.connect(0);
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
    const P = HCA_PROFILE;
    const format = {
      encoding: P.pin.encoding.value.encoding,
      minLength: P.pin.minLength.value,
      maxLength: P.pin.maxLength.value,
      blockLength: P.pin.encoding.value.blockLength,
      padByte: P.pin.encoding.value.padByte,
    };
    const e = await failure(c.verifyPinSecure({ header: Uint8Array.of(0x00, 0x20, 0x00, P.pin.reference.value), format, timeoutSeconds: 20 }));
    expect(e).toMatchObject({ code: 'ccid/module-load-failed' });
    expect(sent.filter((f) => f[0] === PC_to_RDR_Secure)).toEqual([]);
    // The connection is still usable.
    expect(sw(await c.transmit(SELECT_HCA))).toBe(0x9000);
  });
});

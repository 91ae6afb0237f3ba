/**
 * The HCA flows on the Web Smart Card backend: unlock (PUK + new PIN), change PIN, and bind
 * (sign + verifyBinding), through `openSmartCardChannel` on the spec-shaped fake with the
 * virtual HCA card behind it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isWebCcidError } from '../errors.js';
import { HcaCard } from '../hca/card.js';
import { HCA_PROFILE } from '../hca/profile.js';
import { createBindingChallenge, MemoryChallengeStore } from '../server/challenge.js';
import { bindingMessage, createBindingResponse } from '../server/message.js';
import { verifyBinding } from '../server/verify.js';
import { createVirtualHcaCard, VIRTUAL_HCA_DEFAULTS } from '../virtual/hca-card.js';
import { createTestPki } from '../virtual/pki.js';
import { openSmartCardChannel } from './channel.js';
import { createFakeSmartCard } from '../virtual/smartcard-fake.js';

const ORIGIN = 'isolated-app://example';
const READER = 'Castles EZ100PU 00 00';

beforeAll(async () => {
  await createTestPki();
}, 60_000);

async function open(card: Awaited<ReturnType<typeof createVirtualHcaCard>>) {
  const smartCard = createFakeSmartCard({ readers: [{ name: READER, card }] });
  const channel = await openSmartCardChannel({ smartCard });
  return { smartCard, channel, hca: await HcaCard.open(channel) };
}

describe('HCA flows over the Web Smart Card API', () => {
  it('unlock: a blocked PIN is unblocked with the PUK, then the new PIN verifies', async () => {
    const card = await createVirtualHcaCard({ locked: true });
    const { hca, channel } = await open(card);
    expect(hca.atrKnown).toBe(true);
    const blocked = await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWebCcidError(blocked, 'apdu/pin-blocked')).toBe(true);
    await channel.withTransaction(() => hca.unblockPin(VIRTUAL_HCA_DEFAULTS.puk, '654321'));
    await hca.verifyPin('654321');
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(true);
    await channel.disconnect();
    expect(card.isVerified(HCA_PROFILE.pin.reference.value)).toBe(false); // disconnect resets
  }, 60_000);

  it('change PIN: the old PIN no longer works, the new one does', async () => {
    const card = await createVirtualHcaCard();
    const { hca } = await open(card);
    await hca.changePin(VIRTUAL_HCA_DEFAULTS.pin, '246810');
    const wrong = await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWebCcidError(wrong, 'apdu/pin-incorrect')).toBe(true);
    await hca.verifyPin('246810');
  }, 60_000);

  it('bind: read, verify PIN and sign in one transaction; the server verifies the binding', async () => {
    const card = await createVirtualHcaCard();
    const { hca, channel, smartCard } = await open(card);
    const store = new MemoryChallengeStore();
    const { challenge } = await createBindingChallenge({ origin: ORIGIN, store });
    const { cardNumber, certificate, signature } = await channel.withTransaction(async () => {
      const cardNumber = await hca.readCardNumber();
      const certificate = await hca.readCertificate(1);
      await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin);
      const signature = await hca.sign(bindingMessage({ origin: ORIGIN, challenge, cardNumber }));
      return { cardNumber, certificate, signature };
    });
    expect(smartCard.log.at(-1)).toBe('endTransaction leave');
    const response = JSON.parse(JSON.stringify(createBindingResponse({ origin: ORIGIN, challenge, cardNumber, certificate: certificate, signature }))) as unknown;
    const pki = await createTestPki();
    const result = await verifyBinding({
      response,
      store,
      expectedOrigin: ORIGIN,
      trustAnchors: pki.trustAnchors,
      intermediates: pki.intermediates,
      expectedCardType: 'personnel',
    });
    expect(result).toMatchObject({ verified: true, cardType: 'personnel' });
  }, 60_000);

  it('the card is pulled during the flow: smartcard/card-removed', async () => {
    const card = await createVirtualHcaCard();
    const { hca, smartCard } = await open(card);
    await hca.readCardNumber();
    smartCard.removeCard(READER);
    const e = await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isWebCcidError(e, 'smartcard/card-removed')).toBe(true);
  }, 60_000);

  it('a failed transaction body: the API ends it with "reset"; the next HcaCard command selects the application again', async () => {
    const card = await createVirtualHcaCard();
    const { hca, channel, smartCard } = await open(card);
    const number = await hca.readCardNumber();
    await expect(
      channel.withTransaction(async () => {
        await hca.readCardNumber();
        throw new Error('the flow failed half-way');
      }),
    ).rejects.toMatchObject({ code: 'smartcard/failed', cause: { message: 'the flow failed half-way' } });
    expect(smartCard.log).toContain('endTransaction reset');
    expect(channel.resetCount).toBe(1);
    // Before: reset-card on every call (pcsc-lite marks our own handle too), or, where the
    // platform does not, apdu/file-not-found (the card is back at the MF).
    expect(await hca.readCardNumber()).toBe(number);
    expect(smartCard.log.filter((l) => l.startsWith('connect '))).toHaveLength(2);
  });

  it('a reset by another application: that command fails smartcard/card-reset, the next works; the PIN must be verified again', async () => {
    const card = await createVirtualHcaCard();
    const { hca, channel, smartCard } = await open(card);
    const number = await hca.readCardNumber();
    await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin);
    expect((await hca.pinStatus()).verified).toBe(true);
    smartCard.resetCard(READER);
    const e = await hca.readCardNumber().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isWebCcidError(e, 'smartcard/card-reset')).toBe(true);
    expect(channel.resetCount).toBe(1);
    expect(await hca.readCardNumber()).toBe(number);
    expect(await hca.readCardNumber()).toBe(number);
    expect((await hca.pinStatus()).verified).toBe(false);
  });
});

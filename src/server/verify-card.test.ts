/**
 * The bind flow end to end on the virtual HCA card: the client side reads the
 * signature certificate, verifies the PIN and signs `bindingMessage(...)` with
 * `HcaCard.sign`; the server side verifies with `verifyBinding`.
 */
import { describe, expect, it } from 'vitest';
import { createVirtualHcaCard, VIRTUAL_HCA_DEFAULTS } from '../virtual/hca-card.js';
import { createTestPki } from '../virtual/pki.js';
import { MemoryCardChannel } from '../card/memory.js';
import { HcaCard } from '../hca/card.js';
import { bindingDigest, bindingMessage, createBindingResponse } from './message.js';
import { createBindingChallenge, MemoryChallengeStore } from './challenge.js';
import { verifyBinding } from './verify.js';

const ORIGIN = 'http://localhost:5173';

async function bind(o: { kind?: 'personnel' | 'institution'; expired?: boolean; preHashed?: boolean }) {
  const card = await createVirtualHcaCard({ kind: o.kind ?? 'personnel', expired: o.expired ?? false });
  const hca = await HcaCard.open(new MemoryCardChannel(card));
  const store = new MemoryChallengeStore();
  const { challenge } = await createBindingChallenge({ origin: ORIGIN, store });
  const cardNumber = await hca.readCardNumber();
  const certificate = await hca.readCertificate(1);
  await hca.verifyPin(VIRTUAL_HCA_DEFAULTS.pin);
  const input = { origin: ORIGIN, challenge, cardNumber };
  const signature = o.preHashed ? await hca.sign(await bindingDigest(input), { digest: true }) : await hca.sign(bindingMessage(input));
  const response = JSON.parse(JSON.stringify(createBindingResponse({ ...input, certificate: certificate!, signature }))) as unknown;
  const pki = await createTestPki();
  return verifyBinding({ response, store, expectedOrigin: ORIGIN, trustAnchors: pki.trustAnchors, intermediates: pki.intermediates, expectedCardType: 'personnel' });
}

describe('bind flow with the virtual HCA card', () => {
  it('verifies a personnel card (message signed by the card, through JSON)', async () => {
    const r = await bind({});
    expect(r).toMatchObject({ verified: true, cardType: 'personnel', holder: { name: VIRTUAL_HCA_DEFAULTS.personnel.holderName } });
    if (r.verified) expect(r.cardNumber?.replace(/^GH/, '')).toBe(VIRTUAL_HCA_DEFAULTS.cardNumber);
  }, 30_000);

  it('verifies when the host hands the card a pre-computed digest', async () => {
    expect(await bind({ preHashed: true })).toMatchObject({ verified: true });
  }, 30_000);

  it('rejects an institution card when a personnel card is expected', async () => {
    expect(await bind({ kind: 'institution' })).toMatchObject({ verified: false, code: 'wrong-card-type' });
  }, 30_000);

  it('rejects a card whose certificate has expired', async () => {
    expect(await bind({ expired: true })).toMatchObject({ verified: false, code: 'certificate-expired' });
  }, 30_000);
});

/**
 * Records the example traces under test/fixtures/traces/ with `npx webccid probe`'s own code
 * (probeReaders) against virtual readers and cards: what a field report of each kind of card
 * looks like. Each file is `{ description, report, trace }`: the probe's report of the card
 * (`report`, the HCA part of the slot; for a card that is not an HCA card, `nhi` too, the NHI
 * read) and the trace it recorded (PIN redacted). The card data is the virtual card's test data,
 * so it is not redacted (a real report is).
 *
 * Usage: npx tsx scripts/record-virtual-traces.ts   (rewrites the files; the replay tests in
 * test/replay-fixtures.test.ts play them back).
 */
import { writeFileSync } from 'node:fs';
import { probeReaders } from '../src/node/probe.js';
import { createVirtualHcaCard, createVirtualNhiCard, createVirtualReader, VirtualUsb, VIRTUAL_HCA_DEFAULTS, type VirtualHcaCardOptions } from '../src/virtual/index.js';

const DIR = new URL('../test/fixtures/traces/', import.meta.url);

type VirtualCard = NonNullable<Parameters<typeof createVirtualReader>[0]>['card'];

async function record(name: string, description: string, card: VirtualHcaCardOptions | (() => VirtualCard), pin: string | undefined): Promise<void> {
  const inserted = typeof card === 'function' ? card() : await createVirtualHcaCard(card);
  const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'castles-ezccid', card: inserted })] });
  let t = 0;
  const report = await probeReaders({
    backend: usb,
    verifyPin: pin !== undefined,
    readPin: async () => new TextEncoder().encode(pin ?? ''),
    usePinpad: false,
    // The HCA reads and the PIN steps only, as `probeHcaCard` replays them (no discovery).
    discovery: false,
    tool: { name: 'webccid', version: 'fixture' },
    now: () => (t += 1.5),
    date: () => new Date('2026-12-05T08:00:00.000Z'),
  });
  const slot = report.readers[0]?.slots[0];
  const nhi = slot?.nhi === undefined ? {} : { nhi: slot.nhi };
  writeFileSync(new URL(`${name}.json`, DIR), `${JSON.stringify({ description, report: slot?.hca, ...nhi, trace: report.trace }, null, 2)}\n`);
  console.log(`${name}.json: ${report.trace.sessions[0]?.entries.length ?? 0} exchanges`);
}

await record(
  'virtual-iso-card-verified',
  'The virtual HCA card (ISO 7816-4 default profile), probed with --verify-pin and the right PIN: the profile is chosen by one SELECT, the files read, the counter read for free, the PIN accepted once.',
  {},
  VIRTUAL_HCA_DEFAULTS.pin,
);
await record(
  'virtual-iso-card-refused',
  'The same card, probed with --verify-pin and a wrong PIN: the card refuses it (63C2); with the assumed profile this is reported as hca/profile-unconfirmed and nothing more is sent.',
  {},
  '000111',
);
await record(
  'virtual-gpki-sibling-card',
  'A virtual card behaving like the GPKI sibling cards (class 80, DF 5030, no plain VERIFY), probed with --verify-pin: the ISO SELECT is refused (6E00), the sibling profile is chosen, the files read in class 80, and no PIN is sent (not implementable without vendor keys).',
  { behaviour: 'gpki-sibling' },
  VIRTUAL_HCA_DEFAULTS.pin,
);
await record(
  'virtual-nhi-card',
  'A virtual NHI card (健保卡), probed like any card: no HCA candidate\'s SELECT is accepted, so the probe reads it as an NHI card (SELECT of the NHI application, READ BINARY of its public basic data) and sends no PIN.',
  () => createVirtualNhiCard(),
  undefined,
);

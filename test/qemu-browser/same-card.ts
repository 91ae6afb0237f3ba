/**
 * The same-card comparison of the real-route run (real-route.e2e.ts, issue 13 item 4): SELECT MF
 * (00 A4 00 00 02 3F 00) timed in one guest boot, on the one VSCard card, by four clients in turn:
 *
 *   iwa      the IWA page, `connection.transmit()` through our driver on Chromium's WebUSB;
 *   iwa-raw  the IWA page, bare WebUSB (XfrBlock built in the page, GET RESPONSE sent by it);
 *   pcscd    pcscd + libccid (Debian), the C client test/qemu/guest/pcsc-rtt.c --get-response
 *            around SCardTransmit (61xx -> GET RESPONSE sent by the client, as an application does);
 *   node     our driver in Node in the guest (openNodeReader, the `usb` package).
 *
 * Each figure is the time of one whole APDU as its client sees it (GET RESPONSE included). The
 * number of CCID exchanges per APDU is counted on the card's side (the host gets one VSCard APDU
 * per XfrBlock: QEMU's reader works at TPDU level with T=0) and, where the client can, on the
 * client's side; per-exchange figures divide by the card's count. The card's log is split into the
 * clients' APDUs by the order they ran in and the number each sent.
 */

/** One APDU the card got over VSCard: SELECT MF or not, its INS, the host's time in the card (ms). */
export interface CardLogEntry {
  selectMf: boolean;
  ins: number;
  ms: number;
}

/** Round trips as a client reports them: the timed ones (after `warmup` untimed ones), and the last answer (hex). */
export interface Timed {
  count: number;
  warmup?: number;
  last: string;
  ms: number[];
  error?: string;
  skipped?: string;
}

export interface SameCardResults {
  order: string[];
  pcscd: Timed & { transmits?: number; reader?: string; protocol?: number };
  node: Timed;
}

interface ClientFigure {
  label: string;
  what: string;
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  /** CCID exchanges per timed APDU, counted by the card (VSCard APDUs) and by the client (when it can). */
  exchangesPerApdu: number | null;
  clientExchangesPerApdu: number | null;
  perExchange: { medianMs: number; p90Ms: number } | null;
  toPcscd: { median: number; p90: number } | null;
  /** The host's own time in the virtual card per exchange of this client (median, ms). */
  cardMedianMs: number | null;
  ms: number[];
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const f2 = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : n.toFixed(2));

/** Groups of the card's log: a SELECT MF and the GET RESPONSEs (INS C0) right after it. */
function groups(log: CardLogEntry[]): CardLogEntry[][] {
  const out: CardLogEntry[][] = [];
  let current: CardLogEntry[] | undefined;
  for (const e of log) {
    if (e.selectMf) out.push((current = [e]));
    else if (current && e.ins === 0xc0) current.push(e);
    else current = undefined;
  }
  return out;
}

export function compareOnSameCard(input: { iwa: Timed & { apdu: string; bulkOut?: number }; iwaRaw?: Timed & { exchanges?: number }; sameCard?: SameCardResults; cardLog: CardLogEntry[] }): {
  lines: string[];
  json: Record<string, unknown>;
  splitError?: string;
} {
  const clients: Array<{ key: string; label: string; what: string; timed?: Timed; clientExchanges?: number }> = [
    { key: 'iwa', label: 'IWA page, our driver, WebUSB', what: 'connection.transmit() in the IWA page (performance.now())', timed: input.iwa, clientExchanges: input.iwa.bulkOut },
    { key: 'iwa-raw', label: 'IWA page, bare WebUSB', what: 'transferOut + transferIn per XfrBlock from the page, GET RESPONSE by the page', timed: input.iwaRaw, clientExchanges: input.iwaRaw?.exchanges },
    { key: 'pcscd', label: 'pcscd + libccid', what: 'SCardTransmit calls of the C client, GET RESPONSE by the client', timed: input.sameCard?.pcscd, clientExchanges: input.sameCard?.pcscd.transmits },
    { key: 'node', label: 'Node, our driver, usb', what: 'connection.transmit() on openNodeReader() in the guest', timed: input.sameCard?.node },
  ];
  const ran = clients.filter((c) => c.timed && !c.timed.error && !c.timed.skipped && c.timed.ms.length > 0);

  // split the card's log from the end: the clients ran in this order, each sent warmup + count SELECT MF
  const all = groups(input.cardLog);
  let end = all.length;
  let splitError: string | undefined;
  const cardGroups = new Map<string, CardLogEntry[][]>();
  for (const c of [...ran].reverse()) {
    const sent = (c.timed!.warmup ?? 0) + c.timed!.count;
    if (end - sent < 0) {
      splitError = `the card's log has ${all.length} SELECT MF, fewer than the clients sent`;
      break;
    }
    cardGroups.set(c.key, all.slice(end - c.timed!.count, end));
    end -= sent;
  }

  const pcscdTimed = ran.find((c) => c.key === 'pcscd')?.timed;
  const pcscdSorted = pcscdTimed ? [...pcscdTimed.ms].sort((a, b) => a - b) : undefined;
  const figures: Record<string, ClientFigure> = {};
  for (const c of ran) {
    const sorted = [...c.timed!.ms].sort((a, b) => a - b);
    const g = cardGroups.get(c.key);
    const exchanges = g ? g.reduce((n, x) => n + x.length, 0) : undefined;
    const perApdu = exchanges !== undefined ? exchanges / c.timed!.count : null;
    const cardMs = g ? g.flat().map((e) => e.ms).sort((a, b) => a - b) : [];
    const medianMs = quantile(sorted, 0.5);
    const p90Ms = quantile(sorted, 0.9);
    figures[c.key] = {
      label: c.label,
      what: c.what,
      n: sorted.length,
      medianMs,
      p90Ms,
      minMs: sorted[0]!,
      exchangesPerApdu: perApdu,
      clientExchangesPerApdu: c.clientExchanges !== undefined ? c.clientExchanges / c.timed!.count : null,
      perExchange: perApdu ? { medianMs: medianMs / perApdu, p90Ms: p90Ms / perApdu } : null,
      toPcscd: pcscdSorted ? { median: medianMs / quantile(pcscdSorted, 0.5), p90: p90Ms / quantile(pcscdSorted, 0.9) } : null,
      cardMedianMs: cardMs.length ? quantile(cardMs, 0.5) : null,
      ms: c.timed!.ms,
    };
  }

  const lines = [
    `same card (virtual HCA card over VSCard, T=0 ATR), same boot: SELECT MF (${input.iwa.apdu}) x ${input.iwa.count} per client, one client after the other`,
    'client                          n  median ms  p90 ms  exch/APDU card (client)  median/exch  p90/exch  median/pcscd  p90/pcscd  card ms/exch',
  ];
  for (const fig of Object.values(figures)) {
    lines.push(
      `${fig.label.padEnd(30)} ${String(fig.n).padStart(3)} ${f2(fig.medianMs).padStart(10)} ${f2(fig.p90Ms).padStart(7)} ${`${f2(fig.exchangesPerApdu)} (${f2(fig.clientExchangesPerApdu)})`.padStart(24)} ${f2(fig.perExchange?.medianMs).padStart(12)} ${f2(fig.perExchange?.p90Ms).padStart(9)} ${f2(fig.toPcscd?.median).padStart(13)} ${f2(fig.toPcscd?.p90).padStart(10)} ${(fig.cardMedianMs === null ? '-' : fig.cardMedianMs.toFixed(3)).padStart(13)}`,
    );
  }
  for (const c of clients) {
    if (c.timed?.skipped) lines.push(`${c.label}: not measured: ${c.timed.skipped}`);
    else if (c.timed?.error) lines.push(`${c.label}: FAILED: ${c.timed.error.split('\n')[0]}`);
    else if (!c.timed) lines.push(`${c.label}: did not run`);
  }
  if (splitError) lines.push(`exchanges per APDU not counted: ${splitError}`);
  return {
    lines,
    splitError,
    json: {
      apdu: input.iwa.apdu,
      card: 'virtual HCA card (createVirtualHcaCard) over VSCard (ccid-card-passthru), ATR 3B 07 "webccid" (T=0)',
      order: ['iwa', 'iwa-raw', ...(input.sameCard?.order ?? [])],
      clients: figures,
      notMeasured: Object.fromEntries(clients.filter((c) => !c.timed || c.timed.skipped || c.timed.error).map((c) => [c.key, c.timed?.skipped ?? c.timed?.error ?? 'did not run'])),
      ...(splitError ? { splitError } : {}),
    },
  };
}

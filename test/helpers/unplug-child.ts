/**
 * Run by test/unplug.test.ts in a child Node process with default settings
 * (an unhandled rejection ends the process) and no handlers of its own: every
 * way of pulling the reader, with the transfers failing in every order, before
 * and after `close()`. Prints one JSON line per case: what each caller got.
 * The parent checks the exit code, stderr and the codes.
 */
import { CcidReader } from '../../src/ccid/reader.js';
import { createHcaLikeCard, createVirtualReader, VirtualUsb, VIRTUAL_READER_ENDPOINTS, type UnplugStep } from '../../src/virtual/index.js';

const SELECT = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00);
const BULK_IN: UnplugStep = { direction: 'in', endpointNumber: VIRTUAL_READER_ENDPOINTS.bulkIn & 0x0f };
const INTERRUPT: UnplugStep = { direction: 'in', endpointNumber: VIRTUAL_READER_ENDPOINTS.interruptIn & 0x0f };
const BULK_OUT: UnplugStep = { direction: 'out', endpointNumber: VIRTUAL_READER_ENDPOINTS.bulkOut };

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

type Moment = 'write-pending' | 'answer-pending' | 'aborting' | 'idle' | 'closing' | 'closed';

async function runCase(moment: Moment, order: UnplugStep[]) {
  const started = performance.now();
  // Real time, no USB latency while connecting. Then 'write-pending': 20 ms per transfer, so
  // the unplug lands while the command's bulk-out transfer is still going; otherwise 2 ms, and
  // short timeouts (a mute exchange times out after about 110 ms).
  const slow = moment === 'write-pending';
  const device = createVirtualReader({ preset: 'castles-ezccid', card: createHcaLikeCard(), timeScale: 1 });
  const usb = new VirtualUsb({ devices: [device] });
  const reader = await CcidReader.open(device, { backend: usb, ...(slow ? {} : { timeoutFactor: 0.05, usbSlackMs: 50 }) });
  // The short timeouts can expire on a loaded machine: connecting is not what is tested here.
  let connection = await reader.connect(0).catch(() => undefined);
  for (let i = 0; i < 4 && !connection; i++) connection = await reader.connect(0).catch(() => undefined);
  if (!connection) throw new Error('could not connect');
  device.latencyMs = slow ? 20 : 2;
  const calls: Array<Promise<string>> = [];
  let close: Promise<string> | undefined;
  switch (moment) {
    case 'write-pending': // the command's bulk-out transfer and the bulk-in read are both in flight
      calls.push(outcome(connection.transmit(SELECT)), outcome(connection.transmit(SELECT)), outcome(reader.status(0)));
      await sleep(5);
      break;
    case 'answer-pending': // the reader took the command and never answers
      device.injectFault({ kind: 'mute', answerOnAbort: false, persistent: true });
      calls.push(outcome(connection.transmit(SELECT)), outcome(connection.transmit(SELECT)));
      await sleep(10);
      break;
    case 'aborting': // the command timed out: the ABORT control request / PC_to_RDR_Abort are in flight
      device.injectFault({ kind: 'mute', answerOnAbort: false, persistent: true });
      calls.push(outcome(connection.transmit(SELECT)));
      while (reader.transport.stats.aborts === 0) await sleep(1);
      await sleep(2);
      break;
    case 'idle':
      await sleep(5);
      break;
    case 'closing': // close() waits for the exchange in flight
      device.injectFault({ kind: 'mute', answerOnAbort: false, persistent: true });
      calls.push(outcome(connection.transmit(SELECT)));
      await sleep(10);
      close = outcome(reader.close());
      break;
    case 'closed':
      await reader.close();
      break;
  }
  device.unplug({ order });
  const got = await Promise.all(calls);
  // A caller after the unplug (or after close) gets a typed error at once.
  const after = await outcome(connection.transmit(SELECT));
  const closed = await (close ?? outcome(reader.close()));
  await sleep(30); // let every late transfer failure and timer run out
  return { moment, order: order.map((s) => (typeof s === 'string' ? s : `${s.direction} ${s.endpointNumber}`)), got, after, closed, ms: Math.round(performance.now() - started) };
}

const moments: Moment[] = ['write-pending', 'answer-pending', 'aborting', 'idle', 'closing', 'closed'];
for (const moment of moments) {
  // Whatever no step names fails in a last step (see VirtualUsbDevice.unplug).
  const steps: UnplugStep[] = [BULK_IN, moment === 'aborting' ? 'control' : BULK_OUT, INTERRUPT, 'disconnect-event'];
  for (const order of permutations(steps)) {
    // A case that fails is reported, not thrown: only an unhandled rejection may end the process.
    const result = await runCase(moment, order).catch((e: unknown) => ({ moment, failed: String(e) }));
    process.stdout.write(JSON.stringify(result) + '\n');
  }
}
process.stdout.write('done\n');

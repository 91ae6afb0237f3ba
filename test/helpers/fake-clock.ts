/**
 * Running work on vitest's fake clock (`vi.useFakeTimers()`, with `Date` faked): the clock is
 * moved on in steps until the work settles, so a test waits on what the code waits on, never on
 * the wall clock. Work not settled within `limitMs` of the fake clock is a hang: `NotDoneInTime`.
 */
import { vi } from 'vitest';

/** Thrown when work on the fake clock does not end in time (a hang). */
export class NotDoneInTime extends Error {}

export interface OnTheClockOptions {
  /** Fake time allowed before the work counts as hung (ms). Default 60 000. */
  limitMs?: number;
  /** How far the clock moves per step (ms): the precision of the fake time the work settles at. Default 10. */
  stepMs?: number;
}

/** Moves the fake clock on until `work` settles and returns its result (or rejects with its error). */
export async function onTheClock<T>(work: Promise<T>, options: OnTheClockOptions = {}): Promise<T> {
  const { limitMs = 60_000, stepMs = 10 } = options;
  const started = Date.now();
  let settled = false;
  const done = work.finally(() => (settled = true));
  done.catch(() => undefined);
  while (!settled && Date.now() - started <= limitMs) await vi.advanceTimersByTimeAsync(stepMs);
  if (!settled) throw new NotDoneInTime(`not done within ${limitMs} ms of the fake clock`);
  return done;
}

/**
 * One session operation at a time, in call order: `start`, `choose`, `connect`, `release` and
 * `close` of a session never interleave (a release cannot power the card off halfway through a
 * connect). A failed operation does not stop the ones queued after it.
 *
 * The driver has its own per-slot lock for CCID exchanges; this one orders what a session does
 * with a reader as a whole and needs no cancellation.
 */
export class OperationQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every operation queued before it has settled; settles as `fn` does. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => fn());
    this.tail = result.catch(() => undefined);
    return result;
  }
}

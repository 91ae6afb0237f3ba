import { AbortError } from './errors.js';

/**
 * A FIFO lock: one exchange at a time per slot (the CCID reader), one operation at a time per
 * card session (src/session: a release never powers the card off halfway through a connect).
 * `run` waits its turn, then runs `fn`; a failed `fn` does not stop the ones queued after it.
 * A caller still waiting when its `signal` aborts is rejected at once with AbortError and `fn`
 * never runs (its place in the queue is passed on when its turn comes, so the order of the
 * others is kept).
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AbortError());
    const turn = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    return new Promise<T>((resolve, reject) => {
      let cancelled = false;
      const onAbort = () => {
        cancelled = true;
        reject(new AbortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      void turn.then(async () => {
        signal?.removeEventListener('abort', onAbort);
        if (cancelled) {
          release();
          return;
        }
        try {
          resolve(await fn());
        } catch (e) {
          reject(e);
        } finally {
          release();
        }
      });
    });
  }
}

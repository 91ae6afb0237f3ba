import { AbortError } from './errors.js';

/**
 * A FIFO lock: one exchange at a time per slot (the CCID reader), one operation at a time per
 * card session (src/session: a release never powers the card off halfway through a connect).
 * `run` waits its turn, then runs `fn`; a failed `fn` does not stop the ones queued after it.
 * A free lock runs `fn` at once and hands back `fn`'s own promise (no promise or microtask of
 * its own on the path of every APDU). A caller still waiting when its `signal` aborts is
 * rejected at once with AbortError and `fn` never runs (its place in the queue is passed on
 * when its turn comes, so the order of the others is kept).
 */
export class Mutex {
  private held = false;
  private readonly waiting: Array<() => void> = [];
  private readonly release = (): void => {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  };

  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new AbortError());
    if (!this.held) {
      this.held = true;
      return this.start(fn);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new AbortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(() => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) this.release();
        else this.start(fn).then(resolve, reject);
      });
    });
  }

  /** Runs `fn` holding the lock; the lock passes on once its promise settles. */
  private start<T>(fn: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(this.release, this.release);
    return p;
  }
}

/**
 * JSON over node:http for the reference server: typed HTTP errors, answers with the security
 * headers every answer carries, request bodies read within a size limit (an oversized one is
 * drained before the 413, so the client gets the answer), and small request helpers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer other than 2xx: status, `{ error, message, ...extra }`, and headers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * An oversized body is read to its end and dropped before the 413 is sent (so that the client,
 * which may read only once it has sent everything, gets the answer instead of a reset), for at
 * most this long and this much; past either the 413 goes out and the connection is closed.
 */
const DRAIN_LIMIT = 64 << 20;
const DRAIN_TIMEOUT_MS = 10_000;

/** Sends a JSON answer, never cached, never sniffed. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(text);
}

/**
 * Reads and drops the rest of an oversized body (up to `DRAIN_LIMIT` bytes and
 * `DRAIN_TIMEOUT_MS`), so the 413 is sent after the client has finished sending: closing a
 * socket with unread data makes the kernel answer with a reset, and the client then loses the
 * answer. Resolves true when the body ended, false when the client is cut off.
 */
function drain(req: IncomingMessage, alreadyRead: number): Promise<boolean> {
  return new Promise((resolve) => {
    let total = alreadyRead;
    const done = (ended: boolean): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onEnd);
      resolve(ended);
    };
    const onData = (chunk: Uint8Array): void => {
      total += chunk.length;
      if (total > DRAIN_LIMIT) done(false);
    };
    const onEnd = (): void => done(true);
    const timer = setTimeout(() => done(false), DRAIN_TIMEOUT_MS);
    if (req.readableEnded) return done(true);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onEnd);
    req.resume();
  });
}

/** Reads the JSON body: 415 unless application/json, 413 over the limit, 400 on bad JSON or a non-object. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'unsupported-media-type', 'Send the request body as JSON with Content-Type: application/json.');
  }
  const tooLarge = async (read: number): Promise<HttpError> => {
    const ended = await drain(req, read);
    // Past the drain limits a client still sending may see a reset after the answer.
    void ended;
    return new HttpError(413, 'body-too-large', `The request body is larger than ${maxBytes} bytes.`, { limit: maxBytes }, { Connection: 'close' });
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw await tooLarge(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const overflow = await new Promise<boolean>((resolve, reject) => {
    const onData = (chunk: Uint8Array): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        resolve(true);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve(false);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
  if (overflow) {
    for (const c of chunks) c.fill(0);
    throw await tooLarge(size);
  }
  const bytes = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    bytes.set(c, o);
    o += c.length;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new HttpError(400, 'bad-json', 'The request body is not valid JSON.');
  } finally {
    bytes.fill(0);
    for (const c of chunks) c.fill(0);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'bad-request', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

export function need(body: Record<string, unknown>, field: string): unknown {
  const v = body[field];
  if (v === undefined || v === null || v === '') throw new HttpError(400, 'missing-field', `The field "${field}" is required.`, { field });
  return v;
}

export function retryAfter(ms: number): Record<string, string> {
  return { 'Retry-After': String(Math.max(1, Math.ceil(ms / 1000))) };
}

export function rateLimited(retryAfterMs: number, scope: string): HttpError {
  return new HttpError(429, 'rate-limited', 'Too many requests: wait and try again.', { scope, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) }, retryAfter(retryAfterMs));
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

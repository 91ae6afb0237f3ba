import { describe, expect, it } from 'vitest';
import { fetchPuk, PukServiceError, pukServiceErrorFromResponse } from './puk-service.js';

describe('pukServiceErrorFromResponse', () => {
  it.each([
    [401, { error: 'wrong-user-code', attemptsLeft: 4 }, null, { code: 'unlock/wrong-user-code', attemptsLeft: 4, status: 401 }],
    [401, {}, null, { code: 'unlock/wrong-user-code', attemptsLeft: undefined }],
    [423, { error: 'card-locked', retryAfterSeconds: 86400 }, '86400', { code: 'unlock/card-locked', retryAfterSeconds: 86400 }],
    [429, { error: 'rate-limited', scope: 'client' }, '120', { code: 'unlock/rate-limited', retryAfterSeconds: 120 }],
    [429, undefined, 'Wed, 21 Oct 2015 07:28:00 GMT', { code: 'unlock/rate-limited', retryAfterSeconds: undefined }],
    [400, { error: 'bad-card-number' }, null, { code: 'unlock/bad-card-number' }],
    [400, { error: 'missing-field', field: 'cardNumber' }, null, { code: 'unlock/bad-card-number' }],
    [400, { error: 'missing-field', field: 'userCode' }, null, { code: 'unlock/bad-user-code' }],
    [400, { error: 'bad-user-code' }, null, { code: 'unlock/bad-user-code' }],
    [500, { error: 'internal-error' }, null, { code: 'unlock/server-error', serverCode: 'internal-error' }],
    [502, 'not json', null, { code: 'unlock/server-error', serverCode: undefined }],
    [401, { error: 'wrong-user-code', attemptsLeft: -1 }, null, { code: 'unlock/wrong-user-code', attemptsLeft: undefined }],
  ] as const)('%i %j (Retry-After %s) -> %j', (status, body, header, expected) => {
    const e = pukServiceErrorFromResponse(status, body, header);
    expect(e).toBeInstanceOf(PukServiceError);
    expect(e).toMatchObject(expected);
  });
});

function fakeFetch(answer: (init: RequestInit) => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer(init);
  }) as unknown as typeof fetch;
  return { f, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('fetchPuk', () => {
  it('posts the card number and user code as JSON and returns the PUK', async () => {
    const { f, calls } = fakeFetch(() => json(200, { puk: '12345678' }));
    expect(await fetchPuk('000012345678', 'Demo1234', { fetch: f })).toBe('12345678');
    expect(calls[0]!.url).toBe('/api/unlock/puk');
    expect(calls[0]!.init.method).toBe('POST');
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ cardNumber: '000012345678', userCode: 'Demo1234' });
  });

  it('maps refusals, and never puts the user code in the error', async () => {
    const { f } = fakeFetch(() => json(429, { error: 'rate-limited', message: 'slow down' }, { 'Retry-After': '60' }));
    const e = await fetchPuk('000012345678', 'Secret99', { fetch: f, url: '/x' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'unlock/rate-limited', retryAfterSeconds: 60, status: 429 });
    expect(JSON.stringify({ ...(e as object), message: (e as Error).message })).not.toContain('Secret99');
  });

  it('no answer is unlock/network; an answer without a PUK is unlock/server-error', async () => {
    const down = fakeFetch(() => {
      throw new TypeError('Failed to fetch');
    });
    await expect(fetchPuk('000012345678', 'a', { fetch: down.f })).rejects.toMatchObject({ code: 'unlock/network' });
    const empty = fakeFetch(() => json(200, {}));
    await expect(fetchPuk('000012345678', 'a', { fetch: empty.f })).rejects.toMatchObject({ code: 'unlock/server-error' });
    const html = fakeFetch(() => new Response('<html>', { status: 200 }));
    await expect(fetchPuk('000012345678', 'a', { fetch: html.f })).rejects.toMatchObject({ code: 'unlock/server-error' });
  });

  it('an abort stays an abort', async () => {
    const aborted = fakeFetch(() => {
      throw Object.assign(new Error('aborted'), { name: 'AbortError' });
    });
    await expect(fetchPuk('000012345678', 'a', { fetch: aborted.f })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

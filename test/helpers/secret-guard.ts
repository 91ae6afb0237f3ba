/**
 * Test guard for the PIN / PUK rule: spies on every console method and collects the errors a test
 * produced, then asserts that no secret (as text, as ASCII hex, as compact hex) appears in any log
 * line or in any error's message, properties, JSON or cause chain.
 */
import { vi } from 'vitest';
import { toHex } from '../../src/bytes.js';

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

function render(value: unknown, depth = 0): string {
  if (depth > 5) return '';
  if (value instanceof Uint8Array) return `${toHex(value)} ${toHex(value, '')} ${new TextDecoder().decode(value)}`;
  if (value instanceof Error) {
    const own = Object.getOwnPropertyNames(value).map((k) => `${k}=${render((value as unknown as Record<string, unknown>)[k], depth + 1)}`);
    return [String(value), value.message, value.stack ?? '', ...own, render(value.cause, depth + 1), safeJson(value)].join('\n');
  }
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}=${render(v, depth + 1)}`).join(' ') + safeJson(value);
  return String(value);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v)) ?? '';
  } catch {
    return '';
  }
}

export interface SecretGuard {
  /** Runs `fn`, records what it throws (or undefined), and returns it. */
  capture(fn: () => Promise<unknown>): Promise<unknown>;
  record(error: unknown): void;
  readonly errors: unknown[];
  readonly lines: string[];
  /** The places where a secret was found (empty = clean). */
  leaks(): string[];
  restore(): void;
}

export function guardSecrets(secrets: string[]): SecretGuard {
  const lines: string[] = [];
  const errors: unknown[] = [];
  const spies = CONSOLE_METHODS.map((m) =>
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => render(a)).join(' '));
    }),
  );
  const needles = secrets.flatMap((s) => {
    const bytes = new TextEncoder().encode(s);
    return [s, toHex(bytes), toHex(bytes, '')];
  });
  return {
    errors,
    lines,
    record(error) {
      errors.push(error);
    },
    async capture(fn) {
      try {
        await fn();
        return undefined;
      } catch (e) {
        errors.push(e);
        return e;
      }
    },
    leaks() {
      const found: string[] = [];
      const texts = [...lines.map((l, i) => [`log line ${i}`, l] as const), ...errors.map((e, i) => [`error ${i}`, render(e)] as const)];
      for (const [where, text] of texts) {
        for (const n of needles) if (text.includes(n)) found.push(`${where} contains a secret`);
      }
      return found;
    },
    restore() {
      for (const s of spies) s.mockRestore();
    },
  };
}

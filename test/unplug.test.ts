/**
 * Pulling the reader must never leave an unhandled promise rejection: Node
 * ends the process on one by default, so an application using the driver
 * would crash. A real host controller reports an unplug one transfer callback
 * at a time, in no fixed order (bulk-in, bulk-out, interrupt-in, control, and
 * the backend's `disconnect` event); the virtual device does the same when
 * given an order (`unplug({ order })`). The cases run in a child Node process
 * with default settings and no handlers (test/helpers/unplug-child.ts): it
 * must exit normally, print no rejection warning, and every caller must get
 * `transport/disconnected` (or `transport/closed` once the reader was closed).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./helpers/unplug-child.ts', import.meta.url));

interface CaseResult {
  moment: string;
  order?: string[];
  got?: string[];
  after?: string;
  closed?: string;
  failed?: string;
}

describe('unplug', () => {
  it('no unhandled rejection on any path, in any order of transfer failures, before or after close(); every caller gets transport/disconnected', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
      encoding: 'utf8',
      timeout: 150_000,
      // Default settings: no --unhandled-rejections flag, whatever the parent was started with.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(run.stderr).not.toMatch(/Unhandled|PromiseRejectionHandledWarning|TransportError/);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('done');
    const results = lines.slice(0, -1).map((l) => JSON.parse(l) as CaseResult);
    // 6 moments x 24 orders of the 4 steps.
    expect(results).toHaveLength(144);
    for (const r of results) {
      expect(r.failed, JSON.stringify(r)).toBeUndefined();
      const callers = { 'write-pending': 3, 'answer-pending': 2, aborting: 1, idle: 0, closing: 1, closed: 0 }[r.moment];
      expect(r.got, JSON.stringify(r)).toEqual(Array(callers).fill('transport/disconnected'));
      expect(r.after, JSON.stringify(r)).toBe(r.moment === 'closed' ? 'transport/closed' : 'transport/disconnected');
      expect(r.closed, JSON.stringify(r)).toBe('ok');
    }
  }, 180_000);
});

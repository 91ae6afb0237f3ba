import { defineConfig } from 'vitest/config';

/**
 * `npm run test:qemu-browser`: the real route end to end (Chromium inside the QEMU guest, QEMU's
 * CCID reader, the virtual HCA card behind it over VSCard passthru). Minutes under TCG, so it is
 * not part of `npm test` (its file is *.e2e.ts, outside the default config's *.test.ts).
 */
export default defineConfig({
  test: {
    include: ['test/qemu-browser/**/*.e2e.ts'],
    testTimeout: 60_000,
    // above the guest's total budget (real-route.e2e.ts: boot + the phase budgets), which fails first
    hookTimeout: 2_700_000,
    fileParallelism: false,
  },
});

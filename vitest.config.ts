import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'test/qemu/.build/**'],
    testTimeout: 20_000,
    // The English error sentences, as Node users see them (webccid/node registers them too).
    setupFiles: ['test/helpers/english-error-text.ts'],
  },
});

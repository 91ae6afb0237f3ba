import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The demo page. `npm start` serves it; the driver is imported from ../src.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  server: { port: 5173, strictPort: false },
  build: { outDir: fileURLToPath(new URL('../dist-web', import.meta.url)), emptyOutDir: true },
});

/**
 * `referenceServerPlugin(options)`: the reference server inside Vite's dev
 * (and preview) server, so `npm start` serves the page and the API from one
 * process. Typed structurally (no import of `vite`), so it fits any Vite
 * version's `plugins` array.
 */
import { createReferenceServer, type ReferenceServer, type ReferenceServerOptions } from './http.js';

/** The connect-style middleware stack Vite exposes as `server.middlewares`. */
interface MiddlewareStack {
  use(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next: (error?: unknown) => void) => void): unknown;
}

interface ServerLike {
  middlewares: MiddlewareStack;
  httpServer?: { once(event: 'close', listener: () => void): unknown } | null;
}

/** The part of Vite's `Plugin` this plugin fills in. */
export interface ReferenceServerVitePlugin {
  name: string;
  configureServer(server: ServerLike): void;
  configurePreviewServer(server: ServerLike): void;
}

/**
 * A Vite plugin mounting the reference server's middleware (one database per
 * dev server; closed with it). In the plugin, `allowDemoTrustAnchors`
 * defaults to true (the demo page registers its in-browser test PKI root), and
 * so does `allowDemoReset` (`POST {basePath}/demo/reset`, the demo panel's reset:
 * the demo cards get their unlock state back, demo-reset.ts).
 */
export function referenceServerPlugin(options: ReferenceServerOptions = {}): ReferenceServerVitePlugin {
  let server: ReferenceServer | undefined;
  const mount = (vite: ServerLike): void => {
    server ??= createReferenceServer({ allowDemoTrustAnchors: true, allowDemoReset: true, ...options });
    const s = server;
    vite.middlewares.use((req, res, next) => s(req, res, next));
    vite.httpServer?.once('close', () => {
      if (server === s) server = undefined;
      void s.close();
    });
  };
  return {
    name: 'webccid-reference-server',
    configureServer: mount,
    configurePreviewServer: mount,
  };
}

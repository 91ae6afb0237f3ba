/**
 * `referenceServerPlugin(options)`: the reference server inside Vite's dev
 * (and preview) server, so `npm start` serves the page and the API from one
 * process. Typed structurally (no import of `vite`), so it fits any Vite
 * version's `plugins` array.
 */
import { createReferenceServer, type ReferenceServer, type ReferenceServerOptions } from './http.js';
import { resetDemoCards } from './demo-reset.js';

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
 * defaults to true (the demo page registers its in-browser test PKI root),
 * and `POST {basePath}/demo/reset` gives the demo cards their unlock state
 * back (demo-reset.ts; the demo panel's reset button).
 */
export function referenceServerPlugin(options: ReferenceServerOptions = {}): ReferenceServerVitePlugin {
  let server: ReferenceServer | undefined;
  const mount = (vite: ServerLike): void => {
    server ??= createReferenceServer({ allowDemoTrustAnchors: true, ...options });
    const s = server;
    const resetPath = `${(options.basePath ?? '/api').replace(/\/+$/, '')}/demo/reset`;
    vite.middlewares.use((req, res, next) => {
      if (req.method === 'POST' && new URL(req.url ?? '/', 'http://localhost').pathname === resetPath) {
        void s.ready.then(() => {
          const cards = resetDemoCards(s);
          console.warn(`[webccid reference-server] ${JSON.stringify({ level: 'warn', event: 'demo.reset', cards })}`);
          res.statusCode = 200;
          res.setHeader('Content-Type', 'application/json; charset=utf-8');
          res.setHeader('Cache-Control', 'no-store');
          res.end(JSON.stringify({ reset: cards }));
        }, next);
        return;
      }
      s(req, res, next);
    });
    vite.httpServer?.once('close', () => {
      s.close();
      if (server === s) server = undefined;
    });
  };
  return {
    name: 'webccid-reference-server',
    configureServer: mount,
    configurePreviewServer: mount,
  };
}

/**
 * Loads `@peculiar/x509` for any runtime (browser, Node, edge) with WebCrypto
 * as its provider. The library's dependency injection (tsyringe) needs the
 * Reflect metadata API, which the `reflect-metadata` polyfill provides; it is
 * imported first, then the library dynamically, so the order holds whatever a
 * bundler does with side-effect imports. Certificates are only needed by the
 * card operations, the server and the virtual card: the driver core never
 * loads this.
 */
import type * as X509 from '@peculiar/x509';

let loaded: Promise<typeof X509> | undefined;

export function loadX509(): Promise<typeof X509> {
  loaded ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(globalThis.crypto);
    return x509;
  })();
  return loaded;
}

/**
 * The web app's Content-Security-Policy. The production build puts it in a <meta> tag of every
 * page (web/vite.config.ts); a server should also send it as a header together with the
 * header-only directives (`CSP_HEADER`): frame-ancestors cannot be set from a <meta> tag.
 *
 * Everything is served from the page's own origin: no inline script or style, no eval, no
 * third-party origin. Lit's styles use constructable stylesheets (adoptedStyleSheets), which
 * style-src 'self' allows.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, string>> = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data:",
  'font-src': "'self'",
  'connect-src': "'self'",
  'manifest-src': "'self'",
  'base-uri': "'none'",
  'form-action': "'self'",
  'object-src': "'none'",
};

/** The policy as one string (the <meta> tag's content). */
export const CSP_META = Object.entries(CSP_DIRECTIVES)
  .map(([k, v]) => `${k} ${v}`)
  .join('; ');

/** The policy for the Content-Security-Policy response header (adds what a <meta> cannot carry). */
export const CSP_HEADER = `${CSP_META}; frame-ancestors 'none'`;

/** Other response headers the app should be served with. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP_HEADER,
  'Permissions-Policy': 'usb=(self)',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

import { randomBytes } from 'node:crypto';

/** A fresh CSP nonce; one per HTML response, so a leaked page does not help script injection elsewhere. */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * Headers for an HTML response. The policy allows only the page's own nonce-bearing `<style>` and
 * `<script>` and same-origin fetches; nothing else loads, so an injected tag that slipped past
 * escaping still could not run or phone home.
 */
export function htmlHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      'img-src data:',
      "base-uri 'none'",
      // The search box is a plain GET form to the page itself.
      "form-action 'self'",
      "frame-ancestors 'self'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'same-origin',
    // The page embeds a CSRF token and a nonce; neither may be replayed from a cache.
    'Cache-Control': 'no-store',
  };
}

/**
 * Headers for a JSON response. `no-cache` (revalidate every time) rather than `no-store`, so an
 * ETag-carrying status response can be answered with 304 when nothing changed.
 */
export function jsonHeaders(): Record<string, string> {
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Cache-Control': 'private, no-cache',
  };
}

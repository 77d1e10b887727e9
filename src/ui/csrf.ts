import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * CSRF protection by signed double submit: the page sets a token cookie and hands the same token
 * to its script, which repeats it in a header. A cross-site form cannot set the header, and the
 * signature stops a sibling subdomain that can plant cookies from forging a token pair.
 */

function sign(nonce: string, secret: string): string {
  return createHmac('sha256', secret).update(nonce).digest('base64url');
}

/** A fresh token: a random nonce and its signature. */
export function issueCsrfToken(secret: string): string {
  const nonce = randomBytes(18).toString('base64url');
  return `${nonce}.${sign(nonce, secret)}`;
}

/** True when the token was issued with `secret`. */
export function isSignedCsrfToken(token: string | undefined, secret: string): token is string {
  if (!token || token.length > 200) return false;
  const dot = token.indexOf('.');
  if (dot <= 0) return false;
  const expected = Buffer.from(sign(token.slice(0, dot), secret));
  const given = Buffer.from(token.slice(dot + 1));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** True when the cookie and header carry the same token and it is one we signed. */
export function verifyCsrfPair(cookieToken: string | undefined, headerToken: string | undefined, secret: string): boolean {
  if (!cookieToken || !headerToken) return false;
  const a = Buffer.from(cookieToken);
  const b = Buffer.from(headerToken);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
  return isSignedCsrfToken(cookieToken, secret);
}

/** Reads one cookie from a `Cookie` header without a cookie-parsing dependency. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  // Several mounts of the router set cookies of the same name on different paths; the browser sends
  // the most specific path first, which is the one for this mount.
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** The `Set-Cookie` value for a token, scoped to the router's mount path. */
export function csrfCookie(name: string, token: string, path: string, secure: boolean): string {
  const parts = [`${name}=${token}`, `Path=${path}`, 'SameSite=Strict', 'HttpOnly'];
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

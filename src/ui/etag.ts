import { createHash } from 'node:crypto';

/**
 * A strong ETag for a response body. It is derived from the bytes the client would receive, so it
 * can only match when nothing the client sees has changed, whoever wrote to the store.
 */
export function etagFor(body: string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * Whether an `If-None-Match` header matches `etag`, with the weak comparison RFC 9110 prescribes
 * for it (a proxy may have weakened our tag to `W/"…"`).
 */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const wanted = etag.replace(/^W\//, '');
  for (const candidate of header.split(',')) {
    const tag = candidate.trim();
    if (tag === '*') return true;
    if (tag.replace(/^W\//, '') === wanted) return true;
  }
  return false;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML element content and for quoted attribute values.
 * Every string that comes from a task, a user or a request goes through it before it reaches markup.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * Serialises a value as JSON that is safe to place inside a `<script>` data block.
 *
 * `<`, `>` and `&` are escaped so neither `</script>` nor `<!--` can end or confuse the block, and
 * U+2028/U+2029 are escaped because older JavaScript parsers treat them as line terminators.
 * The result still parses with `JSON.parse` to the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (ch) => {
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * Normalises `req.baseUrl` into a path prefix that is safe to interpolate into URLs the page builds.
 *
 * A mount path with parameters puts request-controlled text into the base URL, so a leading `//`
 * (which browsers read as another host) is collapsed, and characters outside the URL path set are
 * percent-encoded. The result has no trailing slash; the empty string means "mounted at the root".
 */
export function normaliseBasePath(baseUrl: string): string {
  let path = baseUrl.replace(/^\/+/, '/').replace(/\/+$/, '');
  path = path.replace(/[^A-Za-z0-9\-._~/%!$&'()*+=:@]/gu, (ch) => percentEncode(ch));
  if (path !== '' && !path.startsWith('/')) path = `/${path}`;
  return path;
}

function percentEncode(ch: string): string {
  // Buffer (unlike encodeURIComponent) never throws on a lone surrogate.
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

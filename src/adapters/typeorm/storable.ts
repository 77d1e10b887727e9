/** What stands in for a NUL character, which PostgreSQL refuses in text: U+FFFD, the replacement character. */
export const NUL_REPLACEMENT = '\uFFFD';

/** What ends a text cut to fit its column. */
export const TRUNCATION_MARK = '…';

// Characters that always fit a MySQL/MariaDB TEXT column (65,535 bytes) in utf8mb4, at 4 bytes each;
// TINYTEXT and MEDIUMTEXT likewise. Other databases' text columns have no practical limit.
const MYSQL_TEXT_CHARS: Readonly<Record<string, number>> = {
  tinytext: 63, text: 16_383, 'simple-json': 16_383, 'simple-array': 16_383, mediumtext: 4_194_303,
};

/**
 * The most characters a value of `column` may have, or undefined when it has no limit worth a
 * check: a `varchar(n)` or `char(n)` holds n characters everywhere, a MySQL TEXT column 65,535 bytes.
 */
export function columnCharLimit(column: { length: string | number; type: unknown }, textual: boolean, mysql: boolean): number | undefined {
  if (!textual) return undefined;
  const length = Number(column.length || 0);
  if (length > 0) return length;
  const type = typeof column.type === 'string' ? column.type.toLowerCase() : column.type === String ? 'varchar' : '';
  if (!mysql) return undefined;
  // TypeORM gives a MySQL varchar without a length 255 characters.
  if (type === 'varchar' || type === 'nvarchar' || type === 'character varying') return 255;
  return MYSQL_TEXT_CHARS[type];
}

// A NUL, or half of a surrogate pair (no database stores one as it is).
/* eslint-disable no-control-regex -- NUL is what these look for */
const UNSTORABLE = /\u0000|\p{Cs}/u;
const UNSTORABLE_ALL = /\u0000|\p{Cs}/gu;
/* eslint-enable no-control-regex */
// The same inside JSON text, where both are written as escapes.
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f]/i;

/**
 * A text as its column can keep it: NUL characters and halves of surrogate pairs replaced with
 * U+FFFD (PostgreSQL refuses NUL, and databases differ on the rest; one value that can never be
 * written must not hold up a record), and cut to `limit` characters with a closing mark. Any
 * other text comes back as it is.
 */
export function storableText(text: string, limit: number | undefined): string {
  let stored = UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, NUL_REPLACEMENT) : text;
  if (limit !== undefined && stored.length > limit) {
    let cut = stored.slice(0, Math.max(0, limit - 1));
    // A cut between the halves of a pair would leave one alone.
    if (/\p{Cs}$/u.test(cut)) cut = cut.slice(0, -1);
    stored = `${cut}${TRUNCATION_MARK}`;
  }
  return stored;
}

/**
 * The JSON text of a value as its column can keep it. NUL characters and halves of surrogate
 * pairs in its strings (written as escapes, which PostgreSQL's jsonb refuses) are replaced; JSON too long for its column is kept as
 * an object that says so, with the start of the text, so the record still says something true.
 */
export function storableJson(value: unknown, limit: number | undefined): string {
  let json = JSON.stringify(value);
  if (UNSTORABLE_ESCAPE.test(json)) json = JSON.stringify(storableValue(value));
  if (limit === undefined || json.length <= limit) return json;
  // Escaping can make a character up to six (\u001f): a preview of a sixth of the room always fits.
  const room = Math.max(0, Math.floor((limit - 64) / 6));
  return JSON.stringify({ truncated: true, length: json.length, preview: json.slice(0, room) });
}

function storableValue(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value, undefined);
  if (Array.isArray(value)) return value.map(storableValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key, undefined), storableValue(item)]));
  }
  return value;
}

/**
 * Normalizes the origin-form request target (RFC 9112 §3.2.1) into the path that routes match, policies
 * see and the upstream receives — one path for all three, so that no two components can disagree about
 * what was asked for. The query is split off and returned verbatim: it is never interpreted here.
 *
 * Node hands the target over as a latin1 string (one character per byte), so every character is a byte.
 */

const SLASH = 0x2f;
const PERCENT = 0x25;

/** Control characters (0x00-0x1F, 0x7F) are never legitimate in a request target (RFC 9112 §3.2). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/**
 * Anything that needs work: a character other than RFC 3986 §3.3 `pchar` and `/` (this includes `%`,
 * `\` and every byte ≥ 0x80), or a `.`/`..` segment (also followed by `;`, see below). A path that has
 * none of these is already normal, which is the common case on the hot path.
 */
const NEEDS_WORK = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/]|\/\.\.?(?:[/;]|$)/;

/**
 * A dot segment with a path parameter (`..;x`, `.;`): Tomcat, Jetty and Spring strip the parameter and
 * then resolve the `..`, so `/public/..;/admin` reaches `/admin` behind a proxy that routed it as
 * `/public/…` (the Apache Shiro CVE-2020-1957 family). No real client sends such a segment.
 */
const DOT_SEGMENT_WITH_PARAMETER = /^\.\.?;/;

const UNRESERVED = 1;
const SAFE_IN_PATH = 2;
/** Per ASCII code: unreserved (RFC 3986 §2.3), or allowed unencoded in a path (§3.3 pchar and `/`). */
const ASCII_CLASS = new Uint8Array(128);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  ASCII_CLASS[char.charCodeAt(0)] = UNRESERVED;
}
for (const char of "!$&'()*+,;=:@/") ASCII_CLASS[char.charCodeAt(0)] = SAFE_IN_PATH;

/** `%XX` for every byte, with upper-case hex digits (RFC 3986 §6.2.2.1). */
const PERCENT_ENCODED = Array.from(
  { length: 256 },
  (_, byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
);

/**
 * Splits `target` into its normalized path and its verbatim query (without the `?`). Returns undefined
 * for a target the server must refuse with 400: one that does not start with `/`, contains a control
 * character, has an invalid percent escape in its path, or has a dot segment with a path parameter.
 */
export function normalizeRequestTarget(target: string): { path: string; query: string } | undefined {
  if (target.charCodeAt(0) !== SLASH || CONTROL_CHARACTER.test(target)) return undefined;
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 ? '' : target.slice(queryStart + 1);
  if (!NEEDS_WORK.test(rawPath)) return { path: rawPath, query };
  const encoded = normalizeEncoding(rawPath);
  const path = encoded === undefined ? undefined : removeDotSegments(encoded);
  return path === undefined ? undefined : { path, query };
}

/**
 * Decodes escapes of unreserved characters and upper-cases all other escapes (RFC 3986 §6.2.2.1-2), and
 * encodes every byte that may not appear raw in a path. `%2F` and `%5C` therefore stay encoded, and a raw
 * `\` becomes `%5C`: neither can ever act as a segment separator, here or upstream.
 */
function normalizeEncoding(path: string): string | undefined {
  let normalized = '';
  for (let index = 0; index < path.length; index++) {
    const code = path.charCodeAt(index);
    if (code === PERCENT) {
      const byte = hexValue(path.charCodeAt(index + 1)) * 16 + hexValue(path.charCodeAt(index + 2));
      if (Number.isNaN(byte)) return undefined;
      normalized +=
        ASCII_CLASS[byte] === UNRESERVED ? String.fromCharCode(byte) : (PERCENT_ENCODED[byte] as string);
      index += 2;
    } else if (code < 0x80 && ASCII_CLASS[code] !== 0) {
      normalized += path[index];
    } else if (code <= 0xff) {
      normalized += PERCENT_ENCODED[code] as string;
    } else {
      // Not a byte: the target did not come from Node's latin1 decoding, so its bytes are unknown.
      return undefined;
    }
  }
  return normalized;
}

/** The value of one hex digit, or NaN (which poisons the byte computed from it). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return NaN;
}

/**
 * RFC 3986 §5.2.4 remove_dot_segments for an absolute path, expressed on segments: `.` is dropped, `..`
 * drops the segment before it (never above the root), and a path ending in a dot segment keeps its
 * trailing slash. Empty segments (`//`) are kept: they are what the upstream will see.
 */
function removeDotSegments(path: string): string | undefined {
  const output: string[] = [];
  let endsAsDirectory = false;
  const segments = path.split('/');
  for (let index = 1; index < segments.length; index++) {
    const segment = segments[index] as string;
    endsAsDirectory = segment === '.' || segment === '..';
    if (segment === '..') output.pop();
    else if (!endsAsDirectory) {
      if (DOT_SEGMENT_WITH_PARAMETER.test(segment)) return undefined;
      output.push(segment);
    }
  }
  if (output.length === 0) return '/';
  return `/${output.join('/')}${endsAsDirectory ? '/' : ''}`;
}

/**
 * Host name patterns as route `from` hosts (and allowlists built on them) write them: an exact name, or
 * `*.example.com` for any name one or more labels below example.com. Label-aware by construction: the
 * apex, look-alikes (`evilexample.com`) and names that merely contain the pattern
 * (`a.example.com.evil.net`) never match.
 */

const DOT = 0x2e;

/**
 * Compiles `pattern` (case-insensitive) into a test for host names as `parseHostHeader` returns them:
 * lower-case, valid, without a trailing dot.
 */
export function compileHostPattern(pattern: string): (hostname: string) => boolean {
  const lowerPattern = pattern.toLowerCase();
  if (!lowerPattern.startsWith('*.')) {
    if (lowerPattern === '' || lowerPattern.includes('*')) {
      throw new TypeError(`host pattern "${pattern}" may only have a wildcard as a leading "*."`);
    }
    return (hostname) => hostname === lowerPattern;
  }
  const suffix = lowerPattern.slice(1);
  if (suffix === '.' || suffix.includes('*')) {
    throw new TypeError(`host pattern "${pattern}" needs a name after "*." and no further wildcard`);
  }
  // The suffix starts with its dot, so matching it is label-aware; the character before it must end a
  // non-empty label.
  return (hostname) =>
    hostname.length > suffix.length &&
    hostname.endsWith(suffix) &&
    hostname.charCodeAt(hostname.length - suffix.length - 1) !== DOT;
}

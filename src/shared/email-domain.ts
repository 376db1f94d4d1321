/**
 * The email rules every access decision shares (DESIGN 6): an email counts only with exactly one `@`, and
 * its domain is compared exactly, case-folded in ASCII.
 */

const ASCII_UPPER = /[A-Z]/;
const ASCII_UPPER_ALL = /[A-Z]/g;

/**
 * Case folding for emails and domains, ASCII letters only: DNS names compare case-insensitively in ASCII
 * alone (RFC 4343 §3), and Unicode folding would let `\u212A` (KELVIN SIGN) pass for `k` or `İ` grow a
 * combining dot.
 */
export function foldAsciiCase(value: string): string {
  // Most values are already lower case; the test spares the hot path a copy.
  return ASCII_UPPER.test(value) ? value.replace(ASCII_UPPER_ALL, (letter) => letter.toLowerCase()) : value;
}

/**
 * The domain of an email with exactly one `@` and a non-empty local part and domain, case-folded; otherwise
 * `undefined`. RFC 5322 would allow a quoted `@` in the local part, but an address an IdP's string and a
 * naive parser read differently (`a@evil.com@example.com`) is exactly what an attacker registers.
 */
export function domainOf(email: string): string | undefined {
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1) return undefined;
  return foldAsciiCase(email.slice(at + 1));
}

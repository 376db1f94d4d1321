/**
 * Certificates and keys given inline may be PEM text (RFC 7468) or base64 of that text — Pomerium's
 * convention, handy in environment variables. Both become PEM so consumers only ever see PEM.
 */
import type { Parsed } from './urls.js';

export type PemContent = 'certificate' | 'private key';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The labels RFC 7468 §5 and §10–11 give certificates and private keys (`RSA`/`EC` are the OpenSSL forms). */
function isLabelFor(content: PemContent, label: string): boolean {
  return content === 'certificate' ? label === 'CERTIFICATE' : label.endsWith('PRIVATE KEY');
}

function hasBlock(text: string, content: PemContent): boolean {
  return [...text.matchAll(PEM_BLOCK)].some((match) => isLabelFor(content, match[1] ?? ''));
}

const expectedLabel = (content: PemContent) =>
  content === 'certificate' ? '-----BEGIN CERTIFICATE-----' : '-----BEGIN PRIVATE KEY-----';

/** Returns the PEM text, decoding base64 first when the value is not PEM already. */
export function readPem(value: string, content: PemContent): Parsed<string> {
  if (value.includes('-----BEGIN ')) {
    if (hasBlock(value, content)) return { ok: true, value };
    return { ok: false, message: `contains no ${content} (expected a ${expectedLabel(content)} block)` };
  }
  const compact = value.replace(/\s+/g, '');
  if (compact === '' || !BASE64.test(compact)) {
    return {
      ok: false,
      message: `is neither PEM (${expectedLabel(content)} …) nor base64 of PEM`,
    };
  }
  const decoded = Buffer.from(compact, 'base64').toString('utf8');
  if (hasBlock(decoded, content)) return { ok: true, value: decoded };
  return {
    ok: false,
    message: `is base64 but does not decode to a PEM ${content}; base64-encode the PEM file itself`,
  };
}

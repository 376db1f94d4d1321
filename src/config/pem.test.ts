import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPem } from './pem.js';

const CERT = readFileSync(new URL('../../test/fixtures/config/tls/cert.pem', import.meta.url), 'utf8');
const KEY = readFileSync(new URL('../../test/fixtures/config/tls/key.pem', import.meta.url), 'utf8');

describe('readPem', () => {
  it('keeps PEM text as it is', () => {
    expect(readPem(CERT, 'certificate')).toEqual({ ok: true, value: CERT });
    expect(readPem(KEY, 'private key')).toEqual({ ok: true, value: KEY });
  });

  it('accepts the OpenSSL RSA and EC private key labels', () => {
    const rsa = KEY.replaceAll('PRIVATE KEY', 'RSA PRIVATE KEY');
    expect(readPem(rsa, 'private key').ok).toBe(true);
  });

  it('decodes base64 of PEM, with or without line breaks', () => {
    const encoded = Buffer.from(CERT).toString('base64');
    expect(readPem(encoded, 'certificate')).toEqual({ ok: true, value: CERT });
    expect(readPem(encoded.replace(/(.{64})/g, '$1\n'), 'certificate')).toEqual({ ok: true, value: CERT });
  });

  it('refuses PEM of the wrong kind', () => {
    expect(readPem(KEY, 'certificate')).toEqual({
      ok: false,
      message: 'contains no certificate (expected a -----BEGIN CERTIFICATE----- block)',
    });
  });

  it('refuses a PEM block whose END does not match its BEGIN', () => {
    const broken = CERT.replace('-----END CERTIFICATE-----', '-----END KEY-----');
    expect(readPem(broken, 'certificate').ok).toBe(false);
  });

  it('refuses text that is neither PEM nor base64', () => {
    expect(readPem('/etc/tls/cert.pem', 'certificate')).toEqual({
      ok: false,
      message: 'is neither PEM (-----BEGIN CERTIFICATE----- …) nor base64 of PEM',
    });
  });

  it('refuses base64 of something that is not PEM, such as DER', () => {
    const der = Buffer.from([0x30, 0x82, 0x01, 0x0a]).toString('base64');
    expect(readPem(der, 'certificate')).toEqual({
      ok: false,
      message: 'is base64 but does not decode to a PEM certificate; base64-encode the PEM file itself',
    });
  });
});

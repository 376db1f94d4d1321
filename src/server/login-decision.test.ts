import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AuthMode } from '../config/schema.js';
import { answerForUnauthenticated, type UnauthenticatedAnswer } from './login-decision.js';

interface RequestKind {
  readonly name: string;
  readonly authMode: AuthMode;
  readonly headers: IncomingHttpHeaders;
  readonly expect: UnauthenticatedAnswer;
}

const { cases } = JSON.parse(
  readFileSync(new URL('../../test/fixtures/request-kinds.json', import.meta.url), 'utf8'),
) as { cases: RequestKind[] };

const navigation: IncomingHttpHeaders = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

describe('answerForUnauthenticated', () => {
  it.each(cases)('$name → $expect', ({ authMode, headers, expect: answer }) => {
    expect(answerForUnauthenticated(headers, { authMode })).toBe(answer);
  });

  it('covers both answers in every mode the fixture uses', () => {
    const seen = new Set(cases.map((c) => `${c.authMode}:${c.expect}`));
    expect(seen).toEqual(
      new Set([
        'auto:redirect',
        'auto:unauthorized',
        'api:unauthorized',
        'redirect:redirect',
        'redirect:unauthorized',
      ]),
    );
  });

  it('redirects a navigation with an Origin when Fetch metadata says it is one', () => {
    const formPost = { ...navigation, origin: 'https://app.example.com' };
    expect(answerForUnauthenticated(formPost, { authMode: 'auto' })).toBe('redirect');
  });

  it('answers 401 to an HTML-preferring request with an Origin and no Fetch metadata', () => {
    const withoutMetadata = { accept: navigation.accept };
    expect(answerForUnauthenticated(withoutMetadata, { authMode: 'auto' })).toBe('redirect');
    expect(answerForUnauthenticated({ ...withoutMetadata, origin: 'null' }, { authMode: 'auto' })).toBe(
      'unauthorized',
    );
  });

  it('treats every spelling of a Gatehouse token header as an API client', () => {
    for (const token of [
      { 'x-pomerium-authorization': '' },
      { authorization: 'pomerium t' },
      { authorization: 'POMERIUM t' },
      { authorization: 'bearer pomerium-t' },
      { authorization: 'Pomerium' },
    ]) {
      expect(answerForUnauthenticated({ ...navigation, ...token }, { authMode: 'auto' })).toBe(
        'unauthorized',
      );
      expect(answerForUnauthenticated({ ...navigation, ...token }, { authMode: 'redirect' })).toBe(
        'unauthorized',
      );
    }
  });

  it("leaves an upstream's own bearer token out of the decision", () => {
    const withUpstreamToken = { ...navigation, authorization: 'Bearer eyJupstream' };
    expect(answerForUnauthenticated(withUpstreamToken, { authMode: 'auto' })).toBe('redirect');
    expect(
      answerForUnauthenticated({ accept: '*/*', authorization: 'Bearer x' }, { authMode: 'redirect' }),
    ).toBe('redirect');
  });
});

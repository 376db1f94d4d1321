import { describe, expect, it } from 'vitest';
import { GatehouseError } from '../shared/errors.js';
import { describeError } from './render-error.js';

describe('describeError', () => {
  it('keeps a 5xx error’s own message inside the process', () => {
    const error = new GatehouseError('ERR_UPSTREAM_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.7:8080');
    expect(describeError(error, 'id-1').message).toBe('The upstream service is unavailable.');
  });

  it('says which part of sign-in is down when the store or the IdP does not answer, without internals', () => {
    const store = new GatehouseError('ERR_STORE_UNAVAILABLE', 'redis://:hunter2@10.0.0.9:6379 refused');
    const idp = new GatehouseError('ERR_IDP_UNAVAILABLE', 'fetch failed for https://idp.internal');
    expect(describeError(store, 'id-2').message).toMatch(/^Sessions are temporarily unavailable/);
    expect(describeError(idp, 'id-3').message).toMatch(/^Sign-in is temporarily unavailable/);
    const busy = new GatehouseError('ERR_TOO_MANY_SIGN_INS', 'the sign-in budget of this process is spent');
    expect(describeError(busy, 'id-6').message).toBe(
      'Too many sign-ins are in progress. Try again in a minute.',
    );
    expect(JSON.stringify([describeError(store, 'x'), describeError(idp, 'y')])).not.toMatch(
      /hunter2|10\.0\.0|internal/,
    );
  });

  it('gives a 401 its login_url, and other errors none', () => {
    const unauthenticated = new GatehouseError('ERR_UNAUTHENTICATED', 'Sign in to use this service.', {
      loginUrl: 'https://auth.example.com/oauth2/start?login=abc',
    });
    expect(describeError(unauthenticated, 'id-4')).toEqual({
      error: 'unauthenticated',
      code: 'ERR_UNAUTHENTICATED',
      message: 'Sign in to use this service.',
      request_id: 'id-4',
      login_url: 'https://auth.example.com/oauth2/start?login=abc',
    });
    expect(describeError(new GatehouseError('ERR_ACCESS_DENIED', 'no'), 'id-5')).not.toHaveProperty(
      'login_url',
    );
  });
});

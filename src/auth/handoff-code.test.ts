import { describe, expect, it } from 'vitest';
import { handoffCodeOf, handoffFixture, handoffHostOf } from '../../test/harness/login-fixtures.js';
import { GatehouseError } from '../shared/errors.js';
import { HANDOFF_CODE_TTL_MS, HandoffCodes } from './handoff-code.js';
import { deriveAuthKeys } from './secrets.js';
import { useMemoryStores } from '../../test/harness/memory-store.js';

const oldSecret = new Uint8Array(32).fill(3);
const secrets = {
  sharedSecret: new Uint8Array(32).fill(7),
  previousSharedSecrets: [],
  cookieSecret: new Uint8Array(32).fill(9),
};
const keys = deriveAuthKeys(secrets);
const payload = {
  sessionToken: 'header.payload.signature',
  returnUrl: 'https://app.other-apex.test/dashboard',
};
const host = handoffFixture.issuedFor;

const newStore = useMemoryStores();

function setUp() {
  const { clock, store } = newStore();
  return { clock, store, codes: new HandoffCodes({ store, keys }) };
}

async function expectInvalid(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(GatehouseError);
  await expect(promise).rejects.toMatchObject({ code: 'ERR_HANDOFF_INVALID', status: 400 });
}

describe('hand-off codes', () => {
  it('give back the payload on the host they were issued for', async () => {
    const { codes } = setUp();
    const code = await codes.issueHandoff(payload, host);
    expect(code).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    await expect(codes.redeemHandoff(code, host)).resolves.toEqual(payload);
  });

  it('compare hosts case-insensitively', async () => {
    const { codes } = setUp();
    const code = await codes.issueHandoff(payload, 'App.Other-Apex.TEST');
    await expect(codes.redeemHandoff(code, host)).resolves.toEqual(payload);
  });

  it('work once', async () => {
    const { codes } = setUp();
    const code = await codes.issueHandoff(payload, host);
    await codes.redeemHandoff(code, host);
    await expectInvalid(codes.redeemHandoff(code, host));
  });

  it('let exactly one of several concurrent redemptions through', async () => {
    const { codes } = setUp();
    const code = await codes.issueHandoff(payload, host);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => codes.redeemHandoff(code, host)),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('expire after 60 seconds', async () => {
    const { clock, codes } = setUp();
    const code = await codes.issueHandoff(payload, host);
    clock.advance(HANDOFF_CODE_TTL_MS + 1);
    await expectInvalid(codes.redeemHandoff(code, host));
  });

  it('still work just before 60 seconds', async () => {
    const { clock, codes } = setUp();
    const code = await codes.issueHandoff(payload, host);
    clock.advance(HANDOFF_CODE_TTL_MS - 1);
    await expect(codes.redeemHandoff(code, host)).resolves.toEqual(payload);
  });

  it('keep working across a shared_secret rotation', async () => {
    const { store } = setUp();
    const before = new HandoffCodes({ store, keys: deriveAuthKeys({ ...secrets, sharedSecret: oldSecret }) });
    const after = new HandoffCodes({
      store,
      keys: deriveAuthKeys({ ...secrets, previousSharedSecrets: [oldSecret] }),
    });
    const code = await before.issueHandoff(payload, host);
    await expect(after.redeemHandoff(code, host)).resolves.toEqual(payload);
  });

  it('never store the session token in the clear', async () => {
    const { store, codes } = setUp();
    const code = await codes.issueHandoff(payload, host);
    const stored = await store.get(`handoff:${code.split('.')[0] ?? ''}`);
    expect(stored).toBeDefined();
    expect(Buffer.from(stored ?? new Uint8Array()).toString('latin1')).not.toContain(payload.sessionToken);
  });
});

describe('hostile hand-off codes (test/fixtures/login/handoff-attacks.json)', () => {
  it.each(handoffFixture.cases)('$name: refused, and the genuine code still works', async (attack) => {
    const { store, codes } = setUp();
    const genuine = await codes.issueHandoff(payload, host);
    const otherSecret = await new HandoffCodes({
      store,
      keys: deriveAuthKeys({ ...secrets, sharedSecret: oldSecret }),
    }).issueHandoff(payload, host);
    await expectInvalid(
      codes.redeemHandoff(handoffCodeOf(attack, genuine, otherSecret), handoffHostOf(attack)),
    );
    await expect(codes.redeemHandoff(genuine, host)).resolves.toEqual(payload);
  });
});

import { describe, expect, it } from 'vitest';
import { systemClock } from '../shared/clock.js';
import { createStore } from './create-store.js';
import { MemoryStore } from './memory-store.js';

describe('createStore', () => {
  it('builds the in-process store for the memory type', async () => {
    const store = await createStore({ type: 'memory', keyPrefix: 'gatehouse:', clock: systemClock });
    expect(store).toBeInstanceOf(MemoryStore);
    await store.close();
  });

  it.each([undefined, ''])(
    'requires a connection string for the redis type (given %j)',
    async (connectionString) => {
      await expect(
        createStore({
          type: 'redis',
          ...(connectionString === undefined ? {} : { connectionString }),
          keyPrefix: 'gatehouse:',
          clock: systemClock,
        }),
      ).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        message: 'databroker_storage_connection_string: required when databroker_storage_type is redis',
      });
    },
  );

  it('refuses a malformed connection string before connecting to anything', async () => {
    const creating = createStore({
      type: 'redis',
      connectionString: 'redis+sentinel://:hunter2@s1:26379',
      keyPrefix: 'gatehouse:',
      clock: systemClock,
    });
    await expect(creating).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    await expect(creating).rejects.not.toThrow(/hunter2/);
  });
});

import { expect } from 'vitest';
import { GatehouseError } from '../../src/shared/errors.js';

/** Awaits a promise that must reject with a GatehouseError of `code`, and returns that error. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<GatehouseError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatehouseError);
  expect(error).toMatchObject({ code });
  return error as GatehouseError;
}

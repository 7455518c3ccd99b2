import { expect } from 'vitest';
import { RecoverError } from '../../src/errors.js';

/** The RecoverError a synchronous call throws; fails the test if it does not refuse. */
export function refusal(run: () => unknown): RecoverError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RecoverError);
    return error as RecoverError;
  }
  throw new Error('expected a refusal');
}

/** The RecoverError a promise rejects with; fails the test if it resolves or rejects otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<RecoverError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoverError);
  return error as RecoverError;
}

import { BerthError } from '../../shared/error';

/** Awaits `promise` and returns the BerthError it rejects with; anything else (or success) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<BerthError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof BerthError) return err;
    throw err;
  }
  throw new Error('expected a BerthError, but the call succeeded');
}

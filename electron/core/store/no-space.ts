import { BerthError } from '../../../shared/error';

const fullDiskCodes = new Set(['ENOSPC', 'EDQUOT']);

/** What a pull stopped by a full disk left behind, and what to do. */
const afterPull =
  'no image was named, the partial download is kept so the next pull resumes (gc reclaims it); ' +
  'free some space and try again';

/**
 * Turns a full disk or exhausted quota (ENOSPC, EDQUOT) met while writing into the store into NO_SPACE,
 * naming the store and saying what was left and what to do (`advice`); any other error is returned unchanged.
 */
export function explainNoSpace(err: unknown, storeRoot: string, what: string, advice = afterPull): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof BerthError || typeof code !== 'string' || !fullDiskCodes.has(code)) return err;
  return new BerthError(
    'NO_SPACE',
    `${what} stopped: the disk holding the store ${storeRoot} is full (${code}); ${advice}`,
    { store: storeRoot, cause: code },
  );
}

/**
 * A failure to write into the store as a BerthError (NO_SPACE for a full disk, INTERNAL otherwise), so a
 * caller retrying network breaks never mistakes a local disk failure for one.
 */
export function storeWriteError(err: unknown, storeRoot: string, what: string): BerthError {
  const explained = explainNoSpace(err, storeRoot, what);
  if (explained instanceof BerthError) return explained;
  const message = err instanceof Error ? err.message : String(err);
  return new BerthError(
    'INTERNAL',
    `${what} stopped: writing into the store ${storeRoot} failed: ${message}`,
    {
      store: storeRoot,
    },
  );
}

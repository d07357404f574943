import { createRequire } from 'node:module';
import type * as BlakeHash from '@napi-rs/blake-hash';

/*
 * The package entry chooses its native binding by asking whether libc is musl through
 * `process.report.getReport()`, which builds a whole diagnostic report: 7–20 ms of every pull's start. The
 * binding published for this platform is loaded by its package name instead; where there is none or it does not
 * load (musl, a platform without a prebuilt glibc or msvc build), the package entry decides as before. The unit
 * test layers/blake3.test.ts checks both give the very same functions.
 */
const load = createRequire(import.meta.url);

function loadBinding(): typeof BlakeHash {
  const abi = process.platform === 'linux' ? '-gnu' : process.platform === 'win32' ? '-msvc' : '';
  try {
    return load(`@napi-rs/blake-hash-${process.platform}-${process.arch}${abi}`) as typeof BlakeHash;
  } catch {
    return load('@napi-rs/blake-hash') as typeof BlakeHash;
  }
}

const binding = loadBinding();

/** BLAKE3 over a whole buffer (the package's `blake3`). */
export const blake3 = binding.blake3;

/** Incremental BLAKE3 (the package's `Blake3Hasher`). */
export const Blake3Hasher = binding.Blake3Hasher;

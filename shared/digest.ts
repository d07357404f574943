import { BerthError } from './error';

/** The digest algorithms Berth verifies, with the hex length of each (OCI image-spec registered algorithms). */
export const digestAlgorithms = { sha256: 64, sha512: 128 } as const;

/** A content digest split into its parts; `hex` is always lowercase and of the algorithm's exact length. */
export interface Digest {
  algorithm: keyof typeof digestAlgorithms;
  hex: string;
}

/** Longest slice of an input echoed back in an error message; the rest is elided. */
const shownInputMax = 200;

/** `input` as echoed in errors: very long inputs keep their start and end, with the middle elided. */
export function elideInput(input: string): string {
  if (input.length <= shownInputMax) return input;
  const half = shownInputMax / 2;
  return `${input.slice(0, half)}…(${input.length - shownInputMax} characters elided)…${input.slice(-half)}`;
}

/** Quotes `input` for an error message (JSON string syntax, so control characters show), eliding long inputs. */
export function quoteInput(input: string): string {
  return JSON.stringify(elideInput(input));
}

/** Why `input` is not a sha256/sha512 digest with lowercase hex of the exact length, or undefined when it is one. */
export function digestProblem(input: string): string | undefined {
  if (typeof input !== 'string') return `expected a string, got ${typeof input}`;
  if (input === '') return 'digest is empty';
  const colon = input.indexOf(':');
  if (colon < 0) return 'missing "algorithm:" prefix';
  const algorithm = input.slice(0, colon);
  const hex = input.slice(colon + 1);
  if (algorithm === '') return 'algorithm is empty';
  if (!isAlgorithmSyntax(algorithm)) return `malformed algorithm ${quoteInput(algorithm)}`;
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    return `unsupported algorithm ${quoteInput(algorithm)} (supported: sha256, sha512)`;
  }
  const expected = digestAlgorithms[algorithm];
  let upper = false;
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
    if (c >= 0x41 && c <= 0x46) {
      upper = true;
      continue;
    }
    return `${algorithm} hex part has invalid character ${JSON.stringify(hex.charAt(i))} at offset ${i}`;
  }
  if (upper) return `${algorithm} hex part must be lowercase`;
  if (hex.length !== expected) {
    return `${algorithm} hex part must be ${expected} characters long, got ${hex.length}`;
  }
  return undefined;
}

/** Parses `algorithm:hex`; throws BerthError INVALID_DIGEST naming the input and the problem. */
export function parseDigest(input: string): Digest {
  const problem = digestProblem(input);
  if (problem !== undefined) {
    const shown = typeof input === 'string' ? elideInput(input) : `<${typeof input}>`;
    throw new BerthError('INVALID_DIGEST', `invalid digest ${JSON.stringify(shown)}: ${problem}`, {
      input: shown,
      problem,
    });
  }
  const colon = input.indexOf(':');
  return { algorithm: input.slice(0, colon) as Digest['algorithm'], hex: input.slice(colon + 1) };
}

/** True when `input` is a digest that parseDigest accepts. */
export function isDigest(input: string): boolean {
  return digestProblem(input) === undefined;
}

/** The `algorithm:hex` string form of a digest. */
export function formatDigest(digest: Digest): string {
  return `${digest.algorithm}:${digest.hex}`;
}

/**
 * The 12-character short image ID docker shows: the first hex characters of a digest, without the
 * algorithm. A bare 64-character hex ID (an image ID without `sha256:`) is accepted too.
 */
export function shortId(digest: string): string {
  const full = isBareSha256(digest) ? `sha256:${digest}` : digest;
  return parseDigest(full).hex.slice(0, 12);
}

/** True for exactly 64 lowercase hex characters: a sha256 hex part with no algorithm prefix. */
export function isBareSha256(input: string): boolean {
  if (input.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = input.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** OCI algorithm grammar: `[a-z0-9]+` components (letters either case here) separated by one of `+._-`. */
function isAlgorithmSyntax(algorithm: string): boolean {
  let atStart = true;
  for (let i = 0; i < algorithm.length; i++) {
    const c = algorithm.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alnum) {
      atStart = false;
      continue;
    }
    const separator = c === 0x2b || c === 0x2e || c === 0x5f || c === 0x2d;
    if (!separator || atStart) return false;
    atStart = true;
  }
  return !atStart;
}

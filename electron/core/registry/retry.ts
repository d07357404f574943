import { setTimeout as delay } from 'node:timers/promises';
import { BerthError } from '../../../shared/error';

/** How transient failures are retried; the clock, sleep and randomness are injectable so tests do not wait. */
export interface RetryPolicy {
  /** Total attempts including the first (default 5). */
  attempts: number;
  /** Delay before the second attempt, doubled for each further one (default 500 ms). */
  baseDelayMs: number;
  /** Ceiling of one backoff delay (default 20 s). */
  maxDelayMs: number;
  /** A `Retry-After` longer than this fails at once with TOO_MANY_REQUESTS instead of waiting (default 5 min). */
  maxRetryAfterMs: number;
  /** Waits `ms`; rejects when `signal` aborts. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Current time in ms since the epoch, for HTTP-date `Retry-After` values and token expiry. */
  now: () => number;
  /** A number in [0, 1) for jitter. */
  random: () => number;
}

/** The policy used unless a caller replaces parts of it. */
export function defaultRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    attempts: 5,
    baseDelayMs: 500,
    maxDelayMs: 20_000,
    maxRetryAfterMs: 5 * 60_000,
    sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
    now: Date.now,
    random: Math.random,
    ...overrides,
  };
}

/**
 * Backoff before attempt `attempt + 1` (attempt counts from 1): `base * 2^(attempt-1)` capped at the
 * maximum, with "equal jitter" so the delay lies in [half, full] of that and concurrent clients spread out.
 */
export function backoffDelay(
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs' | 'random'>,
  attempt: number,
): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (policy.random() * full) / 2);
}

/**
 * Milliseconds a `Retry-After` value asks for: delta-seconds or an HTTP-date (relative to `now`). Undefined
 * for a missing or unreadable value; a date in the past is 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** A failure worth another attempt; `final` is what the caller sees when attempts run out. */
export class TransientError extends Error {
  constructor(
    readonly final: BerthError,
    /** A delay the server asked for (Retry-After), overriding the backoff. */
    readonly retryAfterMs?: number,
  ) {
    super(final.message);
  }
}

/** What `onRetry` hears before each wait. */
export interface RetryNotice {
  /** The attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  reason: string;
}

/**
 * Runs `operation` until it succeeds, throws something other than a TransientError, or uses up the
 * policy's attempts (then the last TransientError's `final` error is thrown). Waits honour `signal`.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  options: { signal?: AbortSignal; onRetry?: (notice: RetryNotice) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (!(err instanceof TransientError)) throw err;
      if (attempt >= policy.attempts) throw err.final;
      if (err.retryAfterMs !== undefined && err.retryAfterMs > policy.maxRetryAfterMs) {
        throw new BerthError(
          err.final.code,
          `${err.final.message}; the registry asks to wait ${Math.ceil(err.retryAfterMs / 1000)} s before retrying`,
          { ...err.final.detail, retryAfterSeconds: Math.ceil(err.retryAfterMs / 1000) },
        );
      }
      const delayMs = err.retryAfterMs ?? backoffDelay(policy, attempt);
      options.onRetry?.({ attempt, delayMs, reason: err.final.message });
      try {
        await policy.sleep(delayMs, options.signal);
      } catch {
        throw new BerthError('CANCELLED', 'cancelled');
      }
    }
  }
}

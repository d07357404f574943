import { describe, expect, it } from 'vitest';
import { BerthError } from '../../../shared/error';
import {
  backoffDelay,
  defaultRetryPolicy,
  parseRetryAfter,
  TransientError,
  withRetry,
  type RetryNotice,
} from '../../../electron/core/registry/retry';

const now = Date.parse('2026-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3_000);
  });

  it('reads an HTTP-date relative to the clock, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt within [half, full] and stops at the ceiling', () => {
    const low = { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 };
    const high = { ...low, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(low, a))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(high, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('withRetry', () => {
  const transient = (message: string, retryAfterMs?: number): TransientError =>
    new TransientError(new BerthError('REGISTRY_UNAVAILABLE', message), retryAfterMs);

  it('retries transient failures with backoff and reports each wait', async () => {
    const waits: number[] = [];
    const notices: RetryNotice[] = [];
    const policy = defaultRetryPolicy({
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
      random: () => 0,
    });
    let calls = 0;
    const value = await withRetry(
      policy,
      (attempt) => {
        calls++;
        return attempt < 3 ? Promise.reject(transient(`503 #${attempt}`)) : Promise.resolve('ok');
      },
      { onRetry: (n) => notices.push(n) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([250, 500]);
    expect(notices.map((n) => n.reason)).toEqual(['503 #1', '503 #2']);
  });

  it('honours Retry-After over the backoff', async () => {
    const waits: number[] = [];
    const policy = defaultRetryPolicy({ sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    await withRetry(policy, (attempt) =>
      attempt === 1 ? Promise.reject(transient('429', 7_000)) : Promise.resolve(1),
    );
    expect(waits).toEqual([7_000]);
  });

  it('gives up after five attempts with the final error', async () => {
    let calls = 0;
    const policy = defaultRetryPolicy({ sleep: () => Promise.resolve() });
    const failing = withRetry(policy, () => {
      calls++;
      return Promise.reject(transient('still down'));
    });
    await expect(failing).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', message: 'still down' });
    expect(calls).toBe(5);
  });

  it('does not retry other errors, nor wait longer than the policy allows', async () => {
    const policy = defaultRetryPolicy({ sleep: () => Promise.reject(new Error('must not sleep')) });
    let calls = 0;
    await expect(
      withRetry(policy, () => {
        calls++;
        return Promise.reject(new BerthError('MANIFEST_UNKNOWN', 'nope'));
      }),
    ).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    expect(calls).toBe(1);
    await expect(withRetry(policy, () => Promise.reject(transient('busy', 3_600_000)))).rejects.toThrow(
      /asks to wait 3600 s/,
    );
  });

  it('turns an aborted wait into CANCELLED', async () => {
    const controller = new AbortController();
    const policy = defaultRetryPolicy({ baseDelayMs: 60_000 });
    const pending = withRetry(policy, () => Promise.reject(transient('x')), { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

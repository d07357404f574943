import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatPlatform,
  formatRate,
  formatRelativeTime,
  relativeSteps,
} from '../../../shared/format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 kB'],
    [1234, '1.23 kB'],
    [12_345, '12.3 kB'],
    [999_499, '999 kB'],
    [999_500, '1.00 MB'],
    [7_800_000, '7.80 MB'],
    [123_456_789, '123 MB'],
    [5_000_000_000, '5.00 GB'],
    [2.5e15, '2.50 PB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('refuses nonsense rather than printing NaN', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });

  it('formats rates per second', () => {
    expect(formatRate(2_500_000)).toBe('2.50 MB/s');
  });
});

describe('formatRelativeTime', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

  it.each([
    [0, 'just now'],
    [30, 'just now'],
    [50, '50 seconds ago'],
    [60, '1 minute ago'],
    [5 * 60 + 20, '5 minutes ago'],
    [3600, '1 hour ago'],
    [23 * 3600, '23 hours ago'],
    [2 * 86400, '2 days ago'],
    [15 * 86400, '2 weeks ago'],
    [60 * 86400, '1 month ago'],
    [800 * 86400, '2 years ago'],
  ])('%d seconds ago reads %s', (seconds, text) => {
    expect(formatRelativeTime(ago(seconds), now)).toBe(text);
  });

  it('treats small clock skew as now and larger future times as future', () => {
    expect(formatRelativeTime(ago(-60), now)).toBe('just now');
    expect(formatRelativeTime(ago(-3600), now)).toBe('in 60 minutes');
  });

  it('shows a dash for missing or unparseable times', () => {
    expect(formatRelativeTime(undefined, now)).toBe('—');
    expect(formatRelativeTime('yesterday-ish', now)).toBe('—');
  });
});

describe('formatCount', () => {
  it.each([0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 10_000, 123_456_789, -1, -1234, 2 ** 53 - 1])(
    '%d reads as toLocaleString("en") has it',
    (value) => {
      expect(formatCount(value)).toBe(value.toLocaleString('en'));
    },
  );

  it('groups every whole number as Intl does, over a sweep of magnitudes', () => {
    for (let value = 1; value < 1e15; value = value * 7 + 3) {
      expect(formatCount(value)).toBe(value.toLocaleString('en'));
    }
  });

  it('hands fractions and huge numbers to Intl', () => {
    expect(formatCount(1234.5)).toBe('1,234.5');
    expect(formatCount(2 ** 60)).toBe((2 ** 60).toLocaleString('en'));
  });
});

describe('formatRelativeTime against Intl.RelativeTimeFormat', () => {
  const intl = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
  // The formatter's own steps, worded by ICU: it must say exactly what Intl would.
  const reference = (seconds: number): string => {
    if (seconds < 45) return seconds > -300 ? 'just now' : intl.format(Math.round(-seconds / 60), 'minute');
    let amount = seconds;
    for (const [unit, size] of relativeSteps) {
      if (amount < size) return intl.format(-Math.max(1, Math.floor(amount)), unit);
      amount /= size;
    }
    return '—';
  };
  const now = Date.parse('2026-11-23T12:00:00Z');

  it('words every step from seconds to millennia as ICU does', () => {
    const sweep: number[] = [];
    for (let seconds = -86_400 * 3; seconds < 0; seconds += 97) sweep.push(seconds);
    for (let seconds = 0; seconds < 86_400 * 365 * 3000; seconds = Math.ceil(seconds * 1.07) + 1)
      sweep.push(seconds);
    for (const seconds of sweep) {
      const iso = new Date(now - seconds * 1000).toISOString();
      expect(formatRelativeTime(iso, now), `${seconds} s`).toBe(reference(seconds));
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45, '45s'],
    [185, '3m 05s'],
    [7800, '2h 10m'],
  ])('%d seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('formatPlatform', () => {
  it('joins os, architecture and variant', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
    expect(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe('linux/arm64/v8');
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDuration,
  formatPlatform,
  formatRate,
  formatRelativeTime,
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

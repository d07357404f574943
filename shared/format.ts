/** Human-readable forms of sizes, times and platforms, shared by the UI and the CLI. Pure: no DOM, no Node. */
import type { Platform } from './contract';

const byteUnits = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'] as const;

/**
 * A byte count in decimal (SI) units as docker prints them, with three significant digits:
 * `0 B`, `999 B`, `1.00 kB`, `12.3 MB`, `456 GB`.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < byteUnits.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value >= 99.95 ? 0 : value >= 9.995 ? 1 : 2;
  return `${value.toFixed(digits)} ${byteUnits[unit]}`;
}

/** A transfer rate: `formatBytes` per second. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

type RelativeTimeUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** Each unit of a relative time and how many of it make the next, smallest first. */
export const relativeSteps: readonly [RelativeTimeUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.348],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/**
 * A whole number with English thousands separators (`12,345`), as `toLocaleString('en')` prints it, without
 * Intl: a page's first Intl call loads ICU's locale data on the main thread (tens of milliseconds), which the
 * images table's first render would otherwise pay for. Other numbers go through Intl.
 */
export function formatCount(value: number): string {
  if (!Number.isSafeInteger(value)) return value.toLocaleString('en');
  const digits = String(Math.abs(value));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let at = grouped.length; at < digits.length; at += 3) grouped += `,${digits.slice(at, at + 3)}`;
  return value < 0 ? `-${grouped}` : grouped;
}

/** `amount` whole units in the past (negative) or future, as `Intl.RelativeTimeFormat('en')` says it. */
function relativeFormat(amount: number, unit: RelativeTimeUnit): string {
  const size = Math.abs(amount);
  const phrase = `${formatCount(size)} ${unit}${size === 1 ? '' : 's'}`;
  return amount < 0 || Object.is(amount, -0) ? `${phrase} ago` : `in ${phrase}`;
}

/**
 * How long ago `iso` was, relative to `now` (milliseconds since the epoch): `just now`, `5 minutes ago`,
 * `3 weeks ago`. Times slightly in the future (clock skew) count as `just now`; unparseable input gives `—`.
 */
export function formatRelativeTime(iso: string | undefined, now: number): string {
  if (iso === undefined) return '—';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  let amount = (now - then) / 1000;
  if (amount < 45) return amount > -300 ? 'just now' : relativeFormat(Math.round(-amount / 60), 'minute');
  for (const [unit, size] of relativeSteps) {
    if (amount < size) return relativeFormat(-Math.max(1, Math.floor(amount)), unit);
    amount /= size;
  }
  return '—';
}

/** A duration in seconds as the ETA column shows it: `45s`, `3m 05s`, `2h 10m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A platform as `os/architecture[/variant]`, the form `--platform` takes. */
export function formatPlatform(platform: Platform): string {
  return platform.variant
    ? `${platform.os}/${platform.architecture}/${platform.variant}`
    : `${platform.os}/${platform.architecture}`;
}

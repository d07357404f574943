import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BrowserWindow, Rectangle } from 'electron';

/** A window's size and place as saved between launches (the bounds are the un-maximized ones). */
export interface WindowState {
  bounds: Rectangle;
  maximized: boolean;
  fullScreen: boolean;
}

/** Size of the first window on a fresh install. */
export const defaultWindowSize = { width: 1280, height: 820 } as const;
/** The smallest size the layout is designed for. */
export const minimumWindowSize = { width: 720, height: 480 } as const;

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates a parsed `window-state.json`; anything malformed is treated as no saved state. */
export function parseWindowState(value: unknown): WindowState | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { bounds, maximized, fullScreen } = value as Record<string, unknown>;
  if (bounds === null || typeof bounds !== 'object') return undefined;
  const { x, y, width, height } = bounds as Record<string, unknown>;
  if (!isFiniteNumber(x) || !isFiniteNumber(y) || !isFiniteNumber(width) || !isFiniteNumber(height)) {
    return undefined;
  }
  if (width <= 0 || height <= 0) return undefined;
  return {
    bounds: { x: Math.round(x), y: Math.round(y), width: Math.round(width), height: Math.round(height) },
    maximized: maximized === true,
    fullScreen: fullScreen === true,
  };
}

function overlapArea(a: Rectangle, b: Rectangle): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

const clamp = (value: number, low: number, high: number) =>
  Math.min(Math.max(value, low), Math.max(low, high));

function centeredIn(area: Rectangle, width: number, height: number): Rectangle {
  const w = Math.min(width, area.width);
  const h = Math.min(height, area.height);
  return {
    x: area.x + Math.floor((area.width - w) / 2),
    y: area.y + Math.floor((area.height - h) / 2),
    width: w,
    height: h,
  };
}

/**
 * Decides where the window opens. The saved bounds are kept on the display they overlap most, shrunk and
 * shifted until they lie wholly in its work area; bounds on no current display (a monitor unplugged since)
 * are centred on the primary display at their saved size. No saved state: the default size, centred.
 */
export function placeWindow(
  saved: WindowState | undefined,
  workAreas: readonly Rectangle[],
  primary: Rectangle,
): WindowState {
  if (saved === undefined) {
    return {
      bounds: centeredIn(primary, defaultWindowSize.width, defaultWindowSize.height),
      maximized: false,
      fullScreen: false,
    };
  }
  const { bounds } = saved;
  let best: Rectangle | undefined;
  let bestArea = 0;
  for (const area of workAreas) {
    const overlap = overlapArea(bounds, area);
    if (overlap > bestArea) [best, bestArea] = [area, overlap];
  }
  if (best === undefined) {
    return { ...saved, bounds: centeredIn(primary, bounds.width, bounds.height) };
  }
  const width = Math.min(bounds.width, best.width);
  const height = Math.min(bounds.height, best.height);
  return {
    ...saved,
    bounds: {
      x: clamp(bounds.x, best.x, best.x + best.width - width),
      y: clamp(bounds.y, best.y, best.y + best.height - height),
      width,
      height,
    },
  };
}

/** Reads the saved state; a missing or unreadable file means none. */
export function loadWindowState(file: string): WindowState | undefined {
  try {
    return parseWindowState(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Writes the state through a temporary file and a rename, so a crash mid-write leaves the old file.
 * Synchronous because it also runs from the window's `close` event, just before the process may exit.
 */
export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state) + '\n');
  renameSync(tmp, file);
}

/** The part of a BrowserWindow that state tracking reads and listens to. */
export type TrackedWindow = Pick<
  BrowserWindow,
  'on' | 'getNormalBounds' | 'isMaximized' | 'isFullScreen' | 'isDestroyed'
>;

/** Window events after which the state is saved (debounced). */
export const trackedEvents = [
  'resize',
  'move',
  'maximize',
  'unmaximize',
  'enter-full-screen',
  'leave-full-screen',
] as const;

/**
 * Saves the window's state `delayMs` after the last resize/move/mode change, and at once when it closes.
 * Returns a function that cancels a pending save.
 */
export function trackWindowState(
  win: TrackedWindow,
  save: (state: WindowState) => void,
  delayMs = 400,
): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const saveNow = () => {
    cancel();
    if (win.isDestroyed()) return;
    try {
      save({ bounds: win.getNormalBounds(), maximized: win.isMaximized(), fullScreen: win.isFullScreen() });
    } catch {
      // Losing a window position is not worth an error dialog; the next change saves again.
    }
  };
  const schedule = () => {
    cancel();
    timer = setTimeout(saveNow, delayMs);
  };
  for (const name of trackedEvents)
    (win.on as (event: string, listener: () => void) => unknown)(name, schedule);
  win.on('close', saveNow);
  return cancel;
}

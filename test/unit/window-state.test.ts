import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Rectangle } from 'electron';
import {
  defaultWindowSize,
  loadWindowState,
  parseWindowState,
  placeWindow,
  saveWindowState,
  trackWindowState,
  type TrackedWindow,
  type WindowState,
} from '../../electron/window/window-state';

const primary: Rectangle = { x: 0, y: 25, width: 1920, height: 1055 };
const right: Rectangle = { x: 1920, y: 0, width: 1280, height: 1024 };
const saved = (bounds: Rectangle, modes: Partial<WindowState> = {}): WindowState => ({
  bounds,
  maximized: false,
  fullScreen: false,
  ...modes,
});
const inside = (b: Rectangle, area: Rectangle) =>
  b.x >= area.x &&
  b.y >= area.y &&
  b.x + b.width <= area.x + area.width &&
  b.y + b.height <= area.y + area.height;

describe('parseWindowState', () => {
  it('accepts a saved state and rounds fractional pixels', () => {
    expect(
      parseWindowState({ bounds: { x: 10.4, y: 20, width: 800.6, height: 600 }, maximized: true }),
    ).toEqual({
      bounds: { x: 10, y: 20, width: 801, height: 600 },
      maximized: true,
      fullScreen: false,
    });
  });

  it.each([
    ['null', null],
    ['a string', 'x'],
    ['no bounds', { maximized: true }],
    ['a missing field', { bounds: { x: 0, y: 0, width: 800 } }],
    ['a string field', { bounds: { x: '0', y: 0, width: 800, height: 600 } }],
    ['an infinite field', { bounds: { x: 0, y: Infinity, width: 800, height: 600 } }],
    ['a zero width', { bounds: { x: 0, y: 0, width: 0, height: 600 } }],
    ['a negative height', { bounds: { x: 0, y: 0, width: 800, height: -1 } }],
  ])('rejects %s', (_name, value) => {
    expect(parseWindowState(value)).toBeUndefined();
  });
});

describe('placeWindow', () => {
  it('centres the default size on the primary display when nothing was saved', () => {
    const { bounds, maximized } = placeWindow(undefined, [primary, right], primary);
    expect(bounds.width).toBe(defaultWindowSize.width);
    expect(bounds.height).toBe(defaultWindowSize.height);
    expect(bounds.x - primary.x).toBe(primary.x + primary.width - (bounds.x + bounds.width));
    expect(inside(bounds, primary)).toBe(true);
    expect(maximized).toBe(false);
  });

  it('keeps bounds that lie wholly on a display, including a secondary one', () => {
    const onRight = { x: 2000, y: 100, width: 900, height: 700 };
    expect(placeWindow(saved(onRight), [primary, right], primary).bounds).toEqual(onRight);
  });

  it('shifts a window hanging off the edge back onto the display it overlaps most', () => {
    const { bounds } = placeWindow(
      saved({ x: 2900, y: 900, width: 800, height: 600 }),
      [primary, right],
      primary,
    );
    expect(bounds).toEqual({ x: 2400, y: 424, width: 800, height: 600 });
    expect(inside(bounds, right)).toBe(true);
  });

  it('moves a window above the top of the work area (under a menu bar) down into it', () => {
    const { bounds } = placeWindow(saved({ x: 100, y: -200, width: 800, height: 600 }), [primary], primary);
    expect(bounds).toEqual({ x: 100, y: 25, width: 800, height: 600 });
  });

  it('shrinks a window larger than its display', () => {
    const { bounds } = placeWindow(
      saved({ x: 1900, y: 0, width: 3000, height: 2000 }),
      [primary, right],
      primary,
    );
    expect(bounds).toEqual(right);
  });

  it('centres a window whose display is gone on the primary display, at its saved size', () => {
    const { bounds } = placeWindow(saved({ x: 5000, y: 300, width: 1000, height: 700 }), [primary], primary);
    expect(bounds).toEqual({ x: 460, y: 202, width: 1000, height: 700 });
  });

  it('keeps the maximized and full-screen modes', () => {
    const state = saved({ x: 10, y: 30, width: 800, height: 600 }, { maximized: true, fullScreen: true });
    expect(placeWindow(state, [primary], primary)).toMatchObject({ maximized: true, fullScreen: true });
  });
});

describe('loadWindowState and saveWindowState', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-window-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through a file in a folder that does not exist yet', () => {
    const file = join(dir, 'nested', 'window-state.json');
    const state = saved({ x: 1, y: 2, width: 800, height: 600 }, { maximized: true });
    saveWindowState(file, state);
    expect(loadWindowState(file)).toEqual(state);
  });

  it('treats a missing, corrupt or malformed file as no saved state', async () => {
    expect(loadWindowState(join(dir, 'absent.json'))).toBeUndefined();
    await writeFile(join(dir, 'corrupt.json'), '{"bounds": {');
    expect(loadWindowState(join(dir, 'corrupt.json'))).toBeUndefined();
    await writeFile(join(dir, 'wrong.json'), '{"bounds": {"x": 1}}');
    expect(loadWindowState(join(dir, 'wrong.json'))).toBeUndefined();
  });

  it('replaces the previous file whole', async () => {
    const file = join(dir, 'window-state.json');
    saveWindowState(file, saved({ x: 1, y: 2, width: 800, height: 600 }));
    saveWindowState(file, saved({ x: 3, y: 4, width: 900, height: 700 }));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(saved({ x: 3, y: 4, width: 900, height: 700 }));
  });
});

class FakeWindow extends EventEmitter {
  bounds: Rectangle = { x: 0, y: 0, width: 800, height: 600 };
  maximized = false;
  destroyed = false;
  getNormalBounds = () => ({ ...this.bounds });
  isMaximized = () => this.maximized;
  isFullScreen = () => false;
  isDestroyed = () => this.destroyed;
}

describe('trackWindowState', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const track = (win: FakeWindow) => {
    const saves: WindowState[] = [];
    const cancel = trackWindowState(win as unknown as TrackedWindow, (s) => saves.push(s), 400);
    return { saves, cancel };
  };

  it('saves once, after the last of a burst of moves and resizes', () => {
    const win = new FakeWindow();
    const { saves } = track(win);
    for (let i = 1; i <= 5; i++) {
      win.bounds = { ...win.bounds, x: i * 10 };
      win.emit(i % 2 ? 'move' : 'resize');
      vi.advanceTimersByTime(100);
    }
    expect(saves).toEqual([]);
    vi.advanceTimersByTime(300);
    expect(saves).toEqual([saved({ x: 50, y: 0, width: 800, height: 600 })]);
  });

  it('records maximizing, keeping the normal bounds', () => {
    const win = new FakeWindow();
    const { saves } = track(win);
    win.maximized = true;
    win.emit('maximize');
    vi.advanceTimersByTime(400);
    expect(saves).toEqual([saved({ x: 0, y: 0, width: 800, height: 600 }, { maximized: true })]);
  });

  it('saves at once on close, replacing a pending save', () => {
    const win = new FakeWindow();
    const { saves } = track(win);
    win.emit('move');
    win.bounds = { ...win.bounds, y: 77 };
    win.emit('close');
    expect(saves).toEqual([saved({ x: 0, y: 77, width: 800, height: 600 })]);
    vi.advanceTimersByTime(1000);
    expect(saves).toHaveLength(1);
  });

  it('skips a destroyed window and stops when cancelled', () => {
    const win = new FakeWindow();
    const { saves, cancel } = track(win);
    win.emit('resize');
    cancel();
    vi.advanceTimersByTime(1000);
    win.destroyed = true;
    win.emit('resize');
    vi.advanceTimersByTime(1000);
    expect(saves).toEqual([]);
  });
});

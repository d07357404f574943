import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppShell } from '../../renderer/src/components/app-shell';
import { AppStoreProvider } from '../../renderer/src/state/app-store-provider';
import { imageRowHeight } from '../../renderer/src/views/images-table';
import { FakeClient, fakeImage } from './fake-client';

// A browser's view of the table, which jsdom lacks: a ResizeObserver that reports when the test says the
// frame was laid out, animation frames that run when the test says the frame was painted, and a
// clientHeight that counts who reads it (a read before the first frame forces a layout of the whole page).
let tableHeight = 0;
let gridHeightReads = 0;
const observers: { callback: ResizeObserverCallback; targets: Element[] }[] = [];
const frames: FrameRequestCallback[] = [];
const scrollWrites: number[] = [];

class FakeResizeObserver {
  private readonly entry: { callback: ResizeObserverCallback; targets: Element[] };
  constructor(callback: ResizeObserverCallback) {
    this.entry = { callback, targets: [] };
    observers.push(this.entry);
  }
  observe(target: Element): void {
    this.entry.targets.push(target);
  }
  unobserve(): void {}
  disconnect(): void {
    this.entry.targets = [];
  }
}

/** The frame's layout: every observer reports its targets, as Chromium does once it laid the page out. */
function layOut(): void {
  for (const { callback, targets } of observers) {
    if (targets.length > 0)
      callback(
        targets.map((target) => ({ target }) as ResizeObserverEntry),
        {} as ResizeObserver,
      );
  }
}

/** The frame's paint: the animation-frame callbacks queued so far run. */
function paint(): void {
  for (const callback of frames.splice(0)) callback(performance.now());
}

const savedHeight = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
const savedInnerHeight = window.innerHeight;
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      if (this.dataset.testid === 'images-grid') gridHeightReads += 1;
      return tableHeight;
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'scrollHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.dataset.testid === 'images-grid' ? 34 + 300 * imageRowHeight : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, 'scrollTo', {
    configurable: true,
    value(this: HTMLElement, options: ScrollToOptions) {
      if (this.dataset.testid === 'images-grid') scrollWrites.push(options.top ?? 0);
    },
  });
  vi.stubGlobal('ResizeObserver', FakeResizeObserver);
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
  vi.stubGlobal('cancelAnimationFrame', () => undefined);
  Object.defineProperty(window, 'innerHeight', { configurable: true, value: 10 * imageRowHeight });
});
afterEach(() => {
  cleanup();
  observers.length = 0;
  frames.length = 0;
  scrollWrites.length = 0;
  gridHeightReads = 0;
});
afterAll(() => {
  if (savedHeight) Object.defineProperty(HTMLElement.prototype, 'clientHeight', savedHeight);
  Reflect.deleteProperty(HTMLElement.prototype, 'scrollTo');
  Reflect.deleteProperty(HTMLElement.prototype, 'scrollHeight');
  Object.defineProperty(window, 'innerHeight', { configurable: true, value: savedInnerHeight });
  vi.unstubAllGlobals();
});

describe('the images table’s first frame', () => {
  it('has the rows of a window-high table without reading the layout, then follows the observer and adds the overscan once painted', async () => {
    const client = new FakeClient();
    client.images = Array.from({ length: 300 }, (_, i) => fakeImage({ name: `repo-${i}:latest` }));
    tableHeight = 5 * imageRowHeight;
    render(
      <AppStoreProvider client={client}>
        <AppShell />
      </AppStoreProvider>,
    );

    // Before any layout: as many rows as the window holds, no more (no overscan), and nothing read or
    // written that would make the browser lay the page out in the middle of the render.
    const first = await screen.findAllByTestId('image-row');
    expect(first.length).toBeGreaterThanOrEqual(9);
    expect(first.length).toBeLessThanOrEqual(11);
    expect(gridHeightReads).toBe(0);
    expect(scrollWrites).toEqual([]);

    // The frame is laid out: the observer gives the table's real height (5 rows), and once the frame is
    // painted the rows beyond the view are added for scrolling.
    act(() => layOut());
    // Shorter than the window: the rows already there cover it, so nothing renders again before the paint.
    expect(screen.getAllByTestId('image-row')).toHaveLength(first.length);
    await act(async () => {
      paint();
      await waitFor(() => expect(screen.getAllByTestId('image-row').length).toBeGreaterThan(11));
    });
    const rows = screen.getAllByTestId('image-row');
    expect(rows.length).toBeGreaterThanOrEqual(5 + 12);
    expect(rows.length).toBeLessThanOrEqual(6 + 12);
    expect(rows[0]?.dataset.imageId).toBe(client.images[0]?.id);

    // Scrolling still writes to the table: End moves to the last image.
    const grid = screen.getByTestId('images-grid');
    act(() => grid.focus());
    fireEvent.keyDown(grid, { key: 'End' });
    await waitFor(() => {
      paint();
      expect(scrollWrites.some((top) => top > 200 * imageRowHeight)).toBe(true);
    });
  });

  it('takes a table taller than the window’s height at once, before any paint', async () => {
    const client = new FakeClient();
    client.images = Array.from({ length: 300 }, (_, i) => fakeImage({ name: `tall-${i}:latest` }));
    tableHeight = 20 * imageRowHeight;
    render(
      <AppStoreProvider client={client}>
        <AppShell />
      </AppStoreProvider>,
    );
    expect((await screen.findAllByTestId('image-row')).length).toBeLessThanOrEqual(11);
    act(() => layOut());
    await waitFor(() => expect(screen.getAllByTestId('image-row').length).toBeGreaterThanOrEqual(20));
    expect(screen.getAllByTestId('image-row').length).toBeLessThanOrEqual(21);
  });
});

import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';

/**
 * Gives every element a `clientHeight` (jsdom has no layout, so the virtual table would render no rows) for the
 * tests of this file, restores it after them, and unmounts what each test rendered.
 */
export function stubViewportHeight(height: () => number = () => 600): void {
  const saved = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: height });
  });
  afterAll(() => {
    if (saved) Object.defineProperty(HTMLElement.prototype, 'clientHeight', saved);
  });
  afterEach(cleanup);
}

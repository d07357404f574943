import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  test: {
    // Vitest's 5 s default fails a test that is slow, not stuck, on a loaded two-core CI machine, and would cut
    // the renderer's 10 s condition waits (test/renderer/setup.ts) short. A hung test still fails.
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          typecheck: { enabled: true, include: ['test/unit/**/*.test-d.ts'], tsconfig: 'tsconfig.node.json' },
        },
      },
      {
        extends: true,
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.{ts,tsx}'],
          environment: 'jsdom',
          setupFiles: ['test/renderer/setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file starts its own registry; two cores keep two files busy without starving them.
          maxWorkers: 2,
        },
      },
    ],
  },
});

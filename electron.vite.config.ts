import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

/**
 * Adds a modulepreload hint for the app chunk (React and the first screen) so the browser fetches it alongside
 * the small bootstrap entry, which opens the socket before that chunk is needed.
 */
function preloadAppChunk(): Plugin {
  return {
    name: 'berth-preload-app-chunk',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const chunk = Object.values(context.bundle ?? {}).find(
          (output) => output.type === 'chunk' && output.name === 'render-app',
        );
        if (!chunk) return [];
        return [
          {
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `./${chunk.fileName}` },
            injectTo: 'head',
          },
        ];
      },
    },
  };
}

// One build for every part: main (and the CLI, which shares main's core), preload, renderer.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          main: resolve('electron/main.ts'),
          cli: resolve('electron/cli/index.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { preload: resolve('electron/preload.ts') },
        // A sandboxed preload must be a single CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'renderer',
    plugins: [react(), preloadAppChunk()],
    build: {
      outDir: 'out/renderer',
      // berth serve sends this bundle over the wire; minify it as a web host would.
      minify: true,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
});

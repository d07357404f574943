import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

/**
 * The chunks the first screen needs: the app (its views, state and client) and React DOM. Split in two so the
 * browser streams and compiles them on two threads at once (one 315 KB chunk took 120–180 ms on one thread).
 */
const firstScreenChunks = ['render-app', 'react-dom'];

/** Puts React DOM and its scheduler in a chunk of their own (see `firstScreenChunks`). */
function reactDomChunk(id: string): string | undefined {
  return /[\\/]node_modules[\\/](react-dom|scheduler)[\\/]/.test(id) ? 'react-dom' : undefined;
}

/**
 * Adds a modulepreload hint for each first-screen chunk so the browser fetches them alongside the small bootstrap
 * entry, which opens the socket before they are needed.
 */
function preloadFirstScreenChunks(): Plugin {
  return {
    name: 'berth-preload-first-screen-chunks',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        return Object.values(context.bundle ?? {})
          .filter((output) => output.type === 'chunk' && firstScreenChunks.includes(output.name))
          .map((chunk) => ({
            tag: 'link',
            attrs: { rel: 'modulepreload', crossorigin: true, href: `./${chunk.fileName}` },
            injectTo: 'head' as const,
          }));
      },
    },
  };
}

/**
 * Marks the first-screen chunks for eager compilation with V8's explicit compile hint: their functions then
 * compile on the threads that stream the chunks in while they download, instead of one by one on the main thread
 * during the first render (about 60 ms of that render on this machine's 2 busy cores). Added after
 * minification, which would drop the comment.
 */
function compileFirstScreenEagerly(): Plugin {
  return {
    name: 'berth-compile-first-screen-eagerly',
    apply: 'build',
    enforce: 'post',
    generateBundle: {
      // After Vite's own post steps, which rewrite the chunk's code (its preload helper goes first).
      order: 'post',
      handler(_options, bundle) {
        for (const output of Object.values(bundle)) {
          if (output.type === 'chunk' && firstScreenChunks.includes(output.name))
            output.code = `//# allFunctionsCalledOnLoad\n${output.code}`;
        }
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
    plugins: [react(), preloadFirstScreenChunks(), compileFirstScreenEagerly()],
    build: {
      outDir: 'out/renderer',
      // berth serve sends this bundle over the wire; minify it as a web host would.
      minify: true,
      rollupOptions: {
        input: resolve('renderer/index.html'),
        output: { manualChunks: reactDomChunk },
      },
    },
  },
});

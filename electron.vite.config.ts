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

/**
 * Marks the app chunk for eager compilation with V8's explicit compile hint: its functions then compile on the
 * thread that streams the chunk in while it downloads, instead of one by one on the main thread during the
 * first render (about 60 ms of that render on this machine's 2 busy cores). Added after minification, which
 * would drop the comment.
 */
function compileAppChunkEagerly(): Plugin {
  return {
    name: 'berth-compile-app-chunk-eagerly',
    apply: 'build',
    enforce: 'post',
    generateBundle: {
      // After Vite's own post steps, which rewrite the chunk's code (its preload helper goes first).
      order: 'post',
      handler(_options, bundle) {
        for (const output of Object.values(bundle)) {
          if (output.type === 'chunk' && output.name === 'render-app')
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
    plugins: [react(), preloadAppChunk(), compileAppChunkEagerly()],
    build: {
      outDir: 'out/renderer',
      // berth serve sends this bundle over the wire; minify it as a web host would.
      minify: true,
      rollupOptions: { input: resolve('renderer/index.html') },
    },
  },
});

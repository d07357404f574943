import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ImageStore } from '../../core/store/image-store';
import { settingsPath } from '../../core/settings';
import { version } from '../../version';
import { rendererDir } from '../../package-root';
import { globalOptions } from '../program';

/** Parses a TCP port argument. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return port;
}

/** Starts the browser host and keeps running until interrupted. */
export async function serve(command: Command, opts: { host: string; port: number }): Promise<void> {
  const { store } = globalOptions(command);
  // The server (ws), the contract handlers and the archive routes load here, not with every `berth` command.
  const [{ startServe }, { archiveRoutes }, { createHandlers }] = await Promise.all([
    import('../../serve/server'),
    import('../../serve/archive-routes'),
    import('../../ipc/handlers'),
  ]);
  // One store instance behind both the contract and the archive routes, so loads reach every UI as events.
  const imageStore = await ImageStore.open(store);
  const archives = archiveRoutes(() => Promise.resolve(imageStore));
  const host = await startServe({
    host: opts.host,
    port: opts.port,
    rendererDir: rendererDir(),
    handlers: (emit) =>
      createHandlers({
        storePath: store,
        settingsFile: settingsPath(store),
        host: 'serve',
        version,
        emit,
        imageStore,
      }),
    routes: [archives.route],
  });
  // Read the store (index, journal, cached image facts, summaries) and answer the first page before announcing
  // the URL: the page's first load then goes out at once instead of waiting for a cold read. Reading it after
  // the URL (while the browser loads the page) made launch faster but the first paint slower by about the same
  // time, because the page's first call then waits for the read (bench/analysis.md). A failure here surfaces
  // on the page's own call.
  await host.prepareFirstPage();
  process.stdout.write(`Berth is serving ${store} at ${host.url}\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      void host.close().then(archives.close).then(done);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** `berth serve`: the same UI in a browser, over WebSocket, on loopback. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the Berth UI to a browser on this machine (token-protected, loopback by default)')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind (0 picks a free one)', parsePort, 0)
    .action((opts: { host: string; port: number }, command: Command) => serve(command, opts));
}

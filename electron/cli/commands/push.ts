import type { Command } from 'commander';
import { formatBytes } from '../../../shared/format';
import { readSettings, settingsPath } from '../../core/settings';
import { ImageStore } from '../../core/store/image-store';
import { globalOptions } from '../program';
import { liveProgress, plainProgress } from './pull';

/** `berth push IMAGE [DEST]`: uploads an image to a registry with live per-blob progress. */
export function registerPush(program: Command): void {
  program
    .command('push')
    .description('push an image to a registry (blobs it has are skipped, blobs from its repository mounted)')
    .argument('<image>', 'local image: name, ID or digest')
    .argument(
      '[destination]',
      'where to push, e.g. registry.example.com/team/app:1.0 (default: the image name)',
    )
    .option('-q, --quiet', 'print only the pushed digest')
    .action(
      async (image: string, destination: string | undefined, opts: { quiet?: boolean }, command: Command) => {
        const options = globalOptions(command);
        // The push engine and registry client load here, not with every `berth` command.
        const [{ Pusher }, { loadRegistryEnvironment, RegistryPool }] = await Promise.all([
          import('../../core/push/push'),
          import('../../core/registry/connect'),
        ]);
        const [store, environment, settings] = await Promise.all([
          ImageStore.open(options.store),
          loadRegistryEnvironment(),
          readSettings(settingsPath(options.store)),
        ]);
        const pool = new RegistryPool(environment);
        const pusher = new Pusher({ store, registries: pool, parallel: settings.parallelDownloads });
        const quiet = opts.quiet === true || options.json;
        const live = !quiet && process.stdout.isTTY ? await liveProgress() : undefined;
        const plain = !quiet && !live ? plainProgress() : undefined;
        const controller = new AbortController();
        const onSignal = (): void => controller.abort();
        process.once('SIGINT', onSignal);
        try {
          const outcome = await pusher.push({
            image,
            ...(destination === undefined ? {} : { destination }),
            signal: controller.signal,
            onProgress: (p) => (live ? live.update(p) : plain?.(p)),
          });
          live?.stop();
          if (options.json) {
            process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
          } else if (opts.quiet === true) {
            process.stdout.write(`${outcome.digest}\n`);
          } else {
            const count = (status: string) => outcome.blobs.filter((b) => b.status === status).length;
            const skipped =
              outcome.indexSkipped === undefined
                ? ''
                : `\nonly this platform was pushed: the other platforms of index ${outcome.indexSkipped} are not in the store`;
            process.stdout.write(
              `pushed ${outcome.reference} (${formatBytes(outcome.bytesUploaded)} uploaded; ` +
                `${count('uploaded')} uploaded, ${count('mounted')} mounted, ${count('exists')} already there)\n` +
                `digest: ${outcome.digest}${skipped}\n`,
            );
          }
        } finally {
          live?.stop();
          process.off('SIGINT', onSignal);
          await pool.close();
        }
      },
    );
}

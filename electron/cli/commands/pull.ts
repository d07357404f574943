import type { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { LayerStatus, PullProgress } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { formatBytes } from '../../../shared/format';
import type { PullPolicy } from '../../core/pull/pull';
import { readSettings, settingsPath } from '../../core/settings';
import { ImageStore } from '../../core/store/image-store';
import { globalOptions } from '../program';

const policies: readonly PullPolicy[] = ['missing', 'always', 'newer'];

/** Short form of a digest for progress lines, as docker shows layer IDs. */
function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** The line that says a pull's image is usable under its name while its layers are still indexed. */
function storedLine(progress: PullProgress): string {
  return `stored ${progress.reference} as ${progress.imageId ?? '—'}; indexing its layers\n`;
}

/**
 * Prints one line per layer status change, and one when the image is stored (usable under its name while its
 * layers are still indexed): the display when stdout is not a terminal.
 */
export function plainProgress(): (progress: PullProgress) => void {
  const seen = new Map<string, LayerStatus>();
  let stored = false;
  return (progress) => {
    for (const layer of progress.layers) {
      if (seen.get(layer.digest) === layer.status) continue;
      seen.set(layer.digest, layer.status);
      const size = layer.total > 0 ? ` ${formatBytes(layer.total)}` : '';
      process.stdout.write(`${shortDigest(layer.digest)}: ${layer.status}${size}\n`);
    }
    if (progress.state === 'stored' && !stored) {
      stored = true;
      process.stdout.write(storedLine(progress));
    }
  };
}

/** A live bar per layer on a terminal; `stop` clears the timer so the process can exit. */
export async function liveProgress(): Promise<{
  update: (progress: PullProgress) => void;
  stop: () => void;
}> {
  const { MultiBar, Presets } = await import('cli-progress');
  const bars = new MultiBar(
    {
      format: '{layer} {bar} {status} {done}/{size}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
    },
    Presets.shades_classic,
  );
  const byDigest = new Map<string, SingleBar>();
  let stored = false;
  return {
    update: (progress) => {
      for (const layer of progress.layers) {
        const payload = {
          layer: shortDigest(layer.digest),
          status: layer.retryInSeconds === undefined ? layer.status : `retrying in ${layer.retryInSeconds} s`,
          done: formatBytes(layer.done),
          size: formatBytes(layer.total),
        };
        const done = layer.status === 'exists' || layer.status === 'complete' ? layer.total : layer.done;
        const bar = byDigest.get(layer.digest);
        if (bar) bar.update(done, payload);
        else byDigest.set(layer.digest, bars.create(Math.max(layer.total, 1), done, payload));
      }
      if (progress.state === 'stored' && !stored) {
        stored = true;
        bars.log(storedLine(progress));
        // Drawn now, above the bars: the pull may finish before the next redraw would print it. Only once a
        // bar exists: a redraw before the first one leaves a redraw timer that stop() does not clear.
        if (byDigest.size > 0) bars.update();
      }
    },
    stop: () => bars.stop(),
  };
}

/** `berth pull REF`: fetches an image into the store with live per-layer progress. */
export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('pull an image from a registry')
    .argument('<reference>', 'image reference, e.g. alpine:3.20 or ghcr.io/org/app@sha256:…')
    .option('--platform <os/arch[/variant]>', 'platform to pull from a multi-platform image')
    .option('--all-platforms', 'pull every platform of a multi-platform image')
    .option('--policy <policy>', 'missing | always | newer', 'missing')
    .option('-q, --quiet', 'print only the image ID')
    .action(
      async (
        reference: string,
        opts: { platform?: string; allPlatforms?: boolean; policy: string; quiet?: boolean },
        command: Command,
      ) => {
        const options = globalOptions(command);
        if (!policies.includes(opts.policy as PullPolicy)) {
          throw new BerthError(
            'BAD_REQUEST',
            `--policy must be one of ${policies.join(', ')}, got ${opts.policy}`,
          );
        }
        // The pull engine and registry client load here, not with every `berth` command.
        const [{ Puller }, { loadRegistryEnvironment, RegistryPool }] = await Promise.all([
          import('../../core/pull/pull'),
          import('../../core/registry/connect'),
        ]);
        const [store, environment, settings] = await Promise.all([
          ImageStore.open(options.store),
          loadRegistryEnvironment(),
          readSettings(settingsPath(options.store)),
        ]);
        const pool = new RegistryPool(environment);
        const puller = new Puller({
          store,
          registries: pool,
          conf: environment.conf,
          parallel: settings.parallelDownloads,
        });
        const quiet = opts.quiet === true || options.json;
        const live = !quiet && process.stdout.isTTY ? await liveProgress() : undefined;
        const plain = !quiet && !live ? plainProgress() : undefined;
        const controller = new AbortController();
        const onSignal = (): void => controller.abort();
        process.once('SIGINT', onSignal);
        try {
          const outcome = await puller.pull({
            reference,
            policy: opts.policy as PullPolicy,
            ...(opts.platform === undefined ? {} : { platform: opts.platform }),
            ...(opts.allPlatforms === true ? { allPlatforms: true } : {}),
            signal: controller.signal,
            onProgress: (p) => (live ? live.update(p) : plain?.(p)),
          });
          live?.stop();
          if (options.json) {
            process.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
          } else if (opts.quiet === true) {
            process.stdout.write(`${outcome.imageId ?? ''}\n`);
          } else {
            const what =
              outcome.status === 'pulled'
                ? `pulled ${outcome.reference} (${formatBytes(outcome.bytesDownloaded)} downloaded)`
                : `${outcome.reference} is ${outcome.status === 'present' ? 'already present' : 'up to date'}`;
            process.stdout.write(
              `${what}\nimage ID: ${outcome.imageId ?? '—'}\ndigest: ${outcome.digest ?? '—'}\n`,
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

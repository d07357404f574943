import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BerthError } from '../../../shared/error';
import { formatBytes } from '../../../shared/format';
import { familiarName } from '../../../shared/reference';
import { changeInstructions } from '../../../shared/change-instructions';
import { displayId } from '../../core/store/image-store';
import { globalOptions, print } from '../program';
import { collect, openStore } from './images';

/** `berth import`, `export`, `squash`: images from and to root filesystem tarballs. */
export function registerRootfs(program: Command): void {
  program
    .command('import')
    .description('make a one-layer image from a root filesystem tarball (plain or gzip; - reads stdin)')
    .argument('<tarball>', 'the tarball, or - for standard input')
    .argument('[reference]', 'name for the image; without one it is dangling and its ID is printed')
    .option(
      '-c, --change <instruction>',
      `apply a Dockerfile instruction (${changeInstructions.join(', ')}); repeatable`,
      collect,
      [],
    )
    .option('-m, --message <text>', 'history comment of the image')
    .option('--platform <os/arch[/variant]>', 'platform to record (default: this host)')
    .action(
      async (
        tarball: string,
        reference: string | undefined,
        opts: { change: string[]; message?: string; platform?: string },
        command: Command,
      ) => {
        const store = await openStore(command);
        const { importRootfs, importRootfsFile } = await import('../../core/archive/import-rootfs');
        const request = {
          changes: opts.change,
          ...(reference === undefined ? {} : { reference }),
          ...(opts.message === undefined ? {} : { message: opts.message }),
          ...(opts.platform === undefined ? {} : { platform: opts.platform }),
        };
        const result =
          tarball === '-'
            ? await importRootfs(store, { ...request, source: process.stdin, label: 'standard input' })
            : await importRootfsFile(store, tarball, request);
        print(globalOptions(command), result, () => result.id);
      },
    );

  program
    .command('export')
    .description("write an image's flattened filesystem (what a container sees) as one tar")
    .argument('<image>', 'name, ID or ID prefix')
    .requiredOption('-o, --output <file>', 'the tar to write (- for standard output)')
    .action(async (image: string, opts: { output: string }, command: Command) => {
      const store = await openStore(command);
      const options = globalOptions(command);
      const { exportRootfs, exportRootfsToFile } = await import('../../core/archive/export-rootfs');
      if (opts.output === '-') {
        if (process.stdout.isTTY)
          throw new BerthError('BAD_REQUEST', 'refusing to write a tar to a terminal; use -o FILE or a pipe');
        await exportRootfs(store, image, process.stdout, 'standard output');
        return;
      }
      const result = await exportRootfsToFile(store, image, resolve(opts.output));
      print(
        options,
        result,
        () =>
          `Exported ${displayId(result.id)} to ${result.file}: ${result.entries} entries, ${formatBytes(result.bytes)} of files`,
      );
    });

  program
    .command('squash')
    .description('make a new image whose layers are merged into one; the image itself stays as it is')
    .argument('<image>', 'name, ID or ID prefix of the image to squash')
    .argument('<name>', 'name for the new image')
    .action(async (image: string, name: string, _opts: unknown, command: Command) => {
      const { squashImage } = await import('../../core/archive/squash');
      const result = await squashImage(await openStore(command), image, name);
      print(
        globalOptions(command),
        result,
        () =>
          `Squashed ${result.replacedLayers} ${result.replacedLayers === 1 ? 'layer' : 'layers'} of ${displayId(result.from)} into ${familiarName(result.names[0] ?? '')} ${displayId(result.id)}`,
      );
    });
}

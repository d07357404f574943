import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { familiarName } from '../../../shared/reference';
import type { ArchiveFormat } from '../../../shared/contract';
import { globalOptions, print } from '../program';
import { openStore } from './images';

/** `berth save` and `berth load`: images to and from docker-archive / oci-archive files. */
export function registerArchive(program: Command): void {
  program
    .command('save')
    .description('write images (with the names given, or all names of an image given by ID) into one archive')
    .argument('<images...>', 'names, IDs or ID prefixes')
    .requiredOption('-o, --output <file>', 'archive file to write')
    .addOption(
      new Option('--format <format>', 'archive layout')
        .choices(['docker-archive', 'oci-archive'])
        .default('docker-archive'),
    )
    .option('--compress', 'gzip the whole archive')
    .action(
      async (
        images: string[],
        opts: { output: string; format: ArchiveFormat; compress?: boolean },
        command: Command,
      ) => {
        const { saveImages } = await import('../../core/archive/save');
        const result = await saveImages(await openStore(command), {
          images,
          output: resolve(opts.output),
          format: opts.format,
          compress: opts.compress === true,
        });
        print(globalOptions(command), result, () =>
          result.images
            .flatMap((i) =>
              i.names.length > 0
                ? i.names.map((n) => `Saved image: ${familiarName(n)}`)
                : [`Saved image ID: ${i.id}`],
            )
            .join('\n'),
        );
      },
    );

  program
    .command('load')
    .description('load every image and name of a docker-archive or oci-archive (plain, gzip or zstd)')
    .requiredOption('-i, --input <file>', 'archive file to read')
    .action(async (opts: { input: string }, command: Command) => {
      const { loadArchive } = await import('../../core/archive/load');
      const result = await loadArchive(await openStore(command), { path: resolve(opts.input) });
      print(globalOptions(command), result, () =>
        [
          ...result.images.flatMap((i) =>
            i.names.length > 0
              ? i.names.map((n) => `Loaded image: ${familiarName(n)}`)
              : [`Loaded image ID: ${i.id}`],
          ),
          ...result.skippedNames.map((n) => `Skipped name "${n}": not a valid reference`),
        ].join('\n'),
      );
    });
}

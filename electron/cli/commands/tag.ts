import type { Command } from 'commander';
import { BerthError } from '../../../shared/error';
import { formatBytes } from '../../../shared/format';
import { familiarName } from '../../../shared/reference';
import { displayId } from '../../core/store/image-store';
import { globalOptions, print } from '../program';
import { collect, openStore } from './images';

/** `berth tag`, `untag`, `rmi`, `prune`: changing names and removing images. */
export function registerTagging(program: Command): void {
  program
    .command('tag')
    .description('give an image another name; a name held by another image moves to this one')
    .argument('<source>', 'image to name')
    .argument('<name>', 'new name')
    .action(async (source: string, name: string, _opts: unknown, command: Command) => {
      const result = await (await openStore(command)).tag(source, name);
      print(globalOptions(command), result, () =>
        result.movedFrom === undefined
          ? ''
          : `Moved ${familiarName(result.name)} from ${displayId(result.movedFrom)}`,
      );
    });

  program
    .command('untag')
    .description('remove names from an image (all of them when none is given); the image stays')
    .argument('<image>', 'name, ID or ID prefix')
    .argument('[names...]', 'names to remove')
    .action(async (image: string, names: string[], _opts: unknown, command: Command) => {
      const result = await (await openStore(command)).untag(image, names);
      print(globalOptions(command), result, () =>
        result.removed.map((n) => `Untagged: ${familiarName(n)}`).join('\n'),
      );
    });

  program
    .command('rmi')
    .description(
      'remove images: by name removes that name (and the image with its last name); by ID the image',
    )
    .argument('<images...>', 'names, IDs or ID prefixes')
    .option('-f, --force', 'remove an image by ID even when it has several names')
    .action(async (queries: string[], opts: { force?: boolean }, command: Command) => {
      const options = globalOptions(command);
      const store = await openStore(command);
      const results = [];
      let failed = 0;
      for (const query of queries) {
        try {
          const result = await store.remove(query, { force: opts.force === true });
          results.push(result);
          if (!options.json) {
            for (const name of result.untagged) process.stdout.write(`Untagged: ${familiarName(name)}\n`);
            for (const id of result.deleted) process.stdout.write(`Deleted: ${id}\n`);
          }
        } catch (err) {
          if (queries.length === 1) throw err;
          failed++;
          process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      if (options.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      if (failed > 0)
        throw new BerthError('CONFLICT', `${failed} of ${queries.length} images could not be removed`);
    });

  program
    .command('prune')
    .description('remove dangling images (every image with --all)')
    .option('-a, --all', 'remove all images, not just dangling ones')
    .option(
      '-f, --filter <key=value>',
      'until=<duration|timestamp>, label=<k>[=<v>], label!=<k>[=<v>]',
      collect,
      [],
    )
    .option('--dry-run', 'only say what would be removed')
    .action(async (opts: { all?: boolean; filter: string[]; dryRun?: boolean }, command: Command) => {
      const filter: { until?: string; label?: string[] } = {};
      for (const raw of opts.filter) {
        const m = /^(until|label!?)=(.*)$/.exec(raw);
        if (!m) throw new BerthError('BAD_REQUEST', `filter "${raw}" is not until=…, label=… or label!=…`);
        if (m[1] === 'until') filter.until = m[2]!;
        else filter.label = [...(filter.label ?? []), m[1] === 'label!' ? `!${m[2]!}` : m[2]!];
      }
      const result = await (
        await openStore(command)
      ).prune({ all: opts.all === true, filter, dryRun: opts.dryRun === true });
      print(globalOptions(command), result, () =>
        [
          ...(result.deleted.length > 0
            ? [
                opts.dryRun ? 'Would delete:' : 'Deleted Images:',
                ...result.deleted.map((id) => `deleted: ${id}`),
                '',
              ]
            : []),
          `Total reclaimed space: ${formatBytes(result.bytesFreed)}`,
        ].join('\n'),
      );
    });
}

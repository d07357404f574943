import type { Command } from 'commander';
import type { ImageFilter, ImageSummary, LayerChain } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { formatBytes, formatRelativeTime } from '../../../shared/format';
import { familiarName, parseReference } from '../../../shared/reference';
import { displayId, ImageStore } from '../../core/store/image-store';
import { globalOptions, print, table } from '../program';
import { inspectRemoteReference } from './registry';

/** Opens the store the global options name. */
export function openStore(command: Command): Promise<ImageStore> {
  return ImageStore.open(globalOptions(command).store, { journal: false });
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Turns `--filter key=value` flags into a list filter; unknown keys are a usage error. */
export function imageFilter(filters: string[]): ImageFilter {
  const filter: ImageFilter = {};
  for (const raw of filters) {
    const negated = /^label!=/.test(raw);
    const eq = raw.indexOf('=');
    if (eq < 1) throw new BerthError('BAD_REQUEST', `filter "${raw}" is not key=value`);
    const key = negated ? 'label' : raw.slice(0, eq);
    const value = raw.slice(eq + 1);
    switch (key) {
      case 'reference':
        filter.reference = [...(filter.reference ?? []), value];
        break;
      case 'label':
        filter.label = [...(filter.label ?? []), negated ? `!${value}` : value];
        break;
      case 'dangling':
        if (value !== 'true' && value !== 'false')
          throw new BerthError('BAD_REQUEST', `dangling=${value}: use true or false`);
        filter.dangling = value === 'true';
        break;
      case 'before':
        filter.before = value;
        break;
      case 'since':
        filter.since = value;
        break;
      default:
        throw new BerthError(
          'BAD_REQUEST',
          `unknown filter "${key}" (use reference, dangling, label, before, since)`,
        );
    }
  }
  return filter;
}

/** Splits a stored name into the REPOSITORY and TAG columns, in familiar form. */
export function repositoryAndTag(name: string): [string, string] {
  try {
    const ref = parseReference(name);
    return [familiarName({ domain: ref.domain, path: ref.path }), ref.tag ?? '<none>'];
  } catch {
    return [name, '<none>'];
  }
}

function imageRows(images: ImageSummary[], digests: boolean, now: number): string[][] {
  return images.flatMap((image) => {
    const names =
      image.repoTags.length > 0
        ? image.repoTags.map(repositoryAndTag)
        : [['<none>', '<none>'] as [string, string]];
    return names.map(([repo, tag]) => {
      const digest =
        image.repoDigests.find((d) => repositoryAndTag(d.split('@')[0] ?? '')[0] === repo)?.split('@')[1] ??
        (repo === '<none>' ? (image.repoDigests[0]?.split('@')[1] ?? '<none>') : '<none>');
      const created = formatRelativeTime(image.created, now);
      const row = [repo, tag, displayId(image.id), created, formatBytes(image.size)];
      if (digests) row.splice(2, 0, digest);
      return row;
    });
  });
}

/** The tree of layer chains, drawn with box characters, each node naming the images it tops. */
export function drawTree(chains: LayerChain[], names: Map<string, string[]>): string {
  const byId = new Map(chains.map((c) => [c.chainId, c]));
  const lines: string[] = [];
  const draw = (chain: LayerChain, prefix: string, last: boolean, root: boolean) => {
    const tops = chain.topOf.map((id) => {
      const n = names.get(id) ?? [];
      return n.length > 0
        ? `${displayId(id)} ${n.map((x) => familiarName(x)).join(', ')}`
        : `${displayId(id)} <none>`;
    });
    const label = `${displayId(chain.chainId)} ${formatBytes(chain.size)}${tops.length > 0 ? `  Top layer of: ${tops.join('; ')}` : ''}`;
    lines.push(root ? label : `${prefix}${last ? '└── ' : '├── '}${label}`);
    const childPrefix = root ? '' : `${prefix}${last ? '    ' : '│   '}`;
    chain.children.forEach((child, i) => {
      const next = byId.get(child);
      if (next) draw(next, childPrefix, i === chain.children.length - 1, false);
    });
  };
  for (const chain of chains) if (chain.parent === undefined) draw(chain, '', true, true);
  return lines.join('\n');
}

/** `berth images`, `inspect`, `history`, `tree`, `df`: reading the store. */
export function registerImages(program: Command): void {
  program
    .command('images')
    .alias('ls')
    .description('list images')
    .option(
      '-a, --all',
      'show all images (an OCI store has no intermediate images to hide; accepted for compatibility)',
    )
    .option('--digests', 'show repo digests')
    .option('-q, --quiet', 'print image IDs only')
    .option(
      '-f, --filter <key=value>',
      'reference=<glob>, dangling=true|false, label=<k>[=<v>], before=<image>, since=<image>',
      collect,
      [],
    )
    .action(async (opts: { digests?: boolean; quiet?: boolean; filter: string[] }, command: Command) => {
      const options = globalOptions(command);
      const images = await (await openStore(command)).list(imageFilter(opts.filter));
      if (opts.quiet && !options.json) {
        process.stdout.write(
          [...new Set(images.map((i) => displayId(i.id)))].map((id) => `${id}\n`).join(''),
        );
        return;
      }
      const header = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
      if (opts.digests) header.splice(2, 0, 'DIGEST');
      print(options, images, () => table(header, imageRows(images, opts.digests === true, Date.now())));
    });

  program
    .command('inspect')
    .description('show everything about images, as JSON')
    .argument('<image...>', 'name, ID or ID prefix')
    .option('--remote', 'inspect the image in its registry instead, without pulling it')
    .option(
      '--platform <os/arch[/variant]>',
      'with --remote: platform to inspect from a multi-platform image',
    )
    .action(async (queries: string[], opts: { remote?: boolean; platform?: string }, command: Command) => {
      if (opts.remote === true) {
        const remote = [];
        for (const query of queries) remote.push(await inspectRemoteReference(query, opts.platform));
        process.stdout.write(JSON.stringify(remote, null, 2) + '\n');
        return;
      }
      const store = await openStore(command);
      const details = [];
      for (const query of queries) details.push(await store.inspect(query));
      process.stdout.write(JSON.stringify(details, null, 2) + '\n');
    });

  program
    .command('history')
    .description('show the history of an image, newest first')
    .argument('<image>', 'name, ID or ID prefix')
    .option('--no-trunc', 'do not truncate IDs and commands')
    .option('-H, --human <bool>', 'print sizes and dates human-readable', 'true')
    .action(async (query: string, opts: { trunc: boolean; human: string }, command: Command) => {
      const options = globalOptions(command);
      const rows = await (await openStore(command)).history(query);
      const now = Date.now();
      const human = opts.human !== 'false';
      print(options, rows, () =>
        table(
          ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
          rows.map((r) => [
            r.id === '<missing>' || !opts.trunc ? r.id : displayId(r.id),
            human ? formatRelativeTime(r.created, now) : (r.created ?? ''),
            opts.trunc && r.createdBy.length > 45 ? `${r.createdBy.slice(0, 44)}…` : r.createdBy,
            human ? formatBytes(r.size) : String(r.size),
            r.comment,
          ]),
        ),
      );
    });

  program
    .command('tree')
    .description('show how images share layers (the layer-chain hierarchy)')
    .action(async (_opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const store = await openStore(command);
      const chains = await store.tree();
      const names = new Map((await store.list()).map((i) => [i.id, i.repoTags]));
      print(options, chains, () => (chains.length === 0 ? 'no images' : drawTree(chains, names)));
    });

  program
    .command('df')
    .description('show disk usage: per image, shared and unique bytes, and what pruning would reclaim')
    .action(async (_opts: unknown, command: Command) => {
      const options = globalOptions(command);
      const usage = await (await openStore(command)).df();
      print(options, usage, () => {
        const rows = usage.images.flatMap((image) => {
          const names =
            image.repoTags.length > 0
              ? image.repoTags.map(repositoryAndTag)
              : [['<none>', '<none>'] as [string, string]];
          return names.map(([repo, tag]) => [
            repo,
            tag,
            displayId(image.id),
            formatBytes(image.size),
            formatBytes(image.sharedSize),
            formatBytes(image.uniqueSize),
          ]);
        });
        return [
          `Images: ${usage.images.length}   Total: ${formatBytes(usage.totalSize)}   Reclaimable: ${formatBytes(usage.reclaimable)}`,
          '',
          table(['REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE'], rows),
        ].join('\n');
      });
    });
}

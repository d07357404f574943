import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EfficiencyReport, FileEntry, LayerViewKind } from '../../../shared/contract';
import { BerthError } from '../../../shared/error';
import { formatBytes } from '../../../shared/format';
import type { ImageLayers } from '../../core/layers/image-layers';
import { platformImage } from '../../core/layers/image-platforms';
import type { ImageStore } from '../../core/store/image-store';
import { globalOptions, print, table } from '../program';
import { openStore } from './images';

/** A threshold of `berth efficiency`: a byte count or a share of all layer bytes. */
export type WasteLimit = { bytes: number } | { percent: number };

const units: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Parses `--max-waste`: `1048576`, `20MB`, `5MiB` or `10%`; BAD_REQUEST for anything else. */
export function parseWasteLimit(text: string): WasteLimit {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%|[kmg]i?b|b)?\s*$/i.exec(text);
  if (!match) {
    throw new BerthError(
      'BAD_REQUEST',
      `--max-waste ${JSON.stringify(text)} is neither bytes (1048576, 20MB, 5MiB) nor a percentage (10%)`,
    );
  }
  const value = Number(match[1]);
  const unit = (match[2] ?? '').toLowerCase();
  if (unit === '%') {
    if (value > 100) throw new BerthError('BAD_REQUEST', `--max-waste ${text} is more than 100%`);
    return { percent: value };
  }
  return { bytes: Math.floor(value * (units[unit] ?? 1)) };
}

/** Parses `--min-efficiency`: a ratio from 0 to 1 (`0.9`). */
export function parseEfficiency(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new BerthError(
      'BAD_REQUEST',
      `--min-efficiency ${JSON.stringify(text)} is not a ratio from 0 to 1`,
    );
  }
  return value;
}

/** Which thresholds a report crosses, one sentence each (empty when it passes). */
export function efficiencyFailures(
  report: EfficiencyReport,
  limits: { maxWaste?: WasteLimit; minEfficiency?: number },
): string[] {
  const failures: string[] = [];
  const { maxWaste, minEfficiency } = limits;
  if (maxWaste && 'bytes' in maxWaste && report.wastedBytes > maxWaste.bytes) {
    failures.push(`wasted ${report.wastedBytes} bytes, more than the allowed ${maxWaste.bytes}`);
  }
  if (maxWaste && 'percent' in maxWaste) {
    const percent = report.totalBytes === 0 ? 0 : (report.wastedBytes / report.totalBytes) * 100;
    if (percent > maxWaste.percent)
      failures.push(
        `wasted ${percent.toFixed(2)}% of layer bytes, more than the allowed ${maxWaste.percent}%`,
      );
  }
  if (minEfficiency !== undefined && report.efficiency < minEfficiency) {
    failures.push(`efficiency ${report.efficiency.toFixed(4)} is below the required ${minEfficiency}`);
  }
  return failures;
}

/** Splits `IMAGE:/PATH` (as `docker cp` writes it) at the first `:/`, which no image reference contains. */
export function splitImagePath(text: string): { image: string; path: string } {
  const at = text.indexOf(':/');
  if (at <= 0) {
    throw new BerthError(
      'BAD_REQUEST',
      `${JSON.stringify(text)} is not IMAGE:/PATH (the path starts with /)`,
    );
  }
  return { image: text.slice(0, at), path: text.slice(at + 1) };
}

function layerOption(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new BerthError(
      'BAD_REQUEST',
      `--layer ${JSON.stringify(text)} is not a layer number (0 is the bottom)`,
    );
  }
  return value;
}

const platformHelp =
  'another platform of the same multi-platform image (os/arch[/variant]); it must be in the store';

/** The layer explorer over `store`; its module (tar, zstd, glob matching) loads with the first `files` command. */
async function explorerOf(store: ImageStore): Promise<ImageLayers> {
  const { ImageLayers } = await import('../../core/layers/image-layers');
  return new ImageLayers(store);
}

/** The image a command explores: `image` itself, or its sibling for `--platform` from the same index. */
async function explored(store: ImageStore, image: string, platform: string | undefined): Promise<string> {
  return platform === undefined ? image : platformImage(store, image, platform);
}

function mark(change: FileEntry['change']): string {
  return { added: 'A', modified: 'M', removed: 'D', unchanged: ' ' }[change];
}

function describe(entry: FileEntry): string {
  const name = `/${entry.path}${entry.type === 'dir' ? '/' : ''}`;
  const link =
    entry.linkTarget === undefined
      ? ''
      : `${entry.type === 'hardlink' ? ' link to ' : ' -> '}${entry.linkTarget}`;
  const flags = (entry.flags ?? []).filter((f) => f.startsWith('link-'));
  return name + link + (flags.length > 0 ? `  [${flags.join(', ')}]` : '');
}

/** `berth files`, `efficiency`, `cat`, `cp`: the layer explorer from a terminal. */
export function registerFiles(program: Command): void {
  program
    .command('files')
    .description(
      "list an image's files: the final filesystem, what one layer changed (--layer N), or the filesystem after it (--layer N --merged)",
    )
    .argument('<image>', 'name, ID or ID prefix')
    .option('--layer <n>', 'layer number, 0 is the bottom (default: the top layer)', layerOption)
    .option('--merged', 'with --layer: the whole filesystem after that layer, not just its changes')
    .option('--changes', 'only added, modified and removed paths')
    .option('--find <glob>', 'search every layer for paths matching a glob (libssl*, usr/lib/**)')
    .option('--platform <os/arch>', platformHelp)
    .action(
      async (
        named: string,
        opts: { layer?: number; merged?: boolean; changes?: boolean; find?: string; platform?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const store = await openStore(command);
        const image = await explored(store, named, opts.platform);
        const explorer = await explorerOf(store);
        if (opts.find !== undefined) {
          const result = await explorer.search(image, opts.find, 'glob');
          print(options, result, () =>
            table(
              ['LAYER', 'CHANGE', 'SIZE', 'PATH'],
              result.hits.map((h) => [String(h.layer), h.change, formatBytes(h.size), `/${h.path}`]),
            ),
          );
          return;
        }
        const layers = await explorer.list(image);
        if (layers.length === 0) throw new BerthError('NOT_FOUND', `${named} has no layers`);
        const layer = opts.layer ?? layers.length - 1;
        const view: LayerViewKind = opts.layer === undefined || opts.merged === true ? 'merged' : 'layer';
        const rows: FileEntry[] = [];
        const walk = async (path: string): Promise<void> => {
          const listing = await explorer.directory(image, layer, view, path);
          for (const entry of listing.entries) {
            const changed =
              entry.change !== 'unchanged' ||
              (entry.changes !== undefined &&
                entry.changes.added + entry.changes.modified + entry.changes.removed > 0);
            if (opts.changes !== true || changed) rows.push(entry);
            if (entry.type === 'dir' && entry.change !== 'removed' && (opts.changes !== true || changed))
              await walk(entry.path);
          }
        };
        await walk('');
        for (const problem of layers.filter((l) => l.problem))
          process.stderr.write(`berth: layer ${problem.index}: ${problem.problem?.message ?? ''}\n`);
        print(options, { layer, view, entries: rows }, () =>
          rows
            .map(
              (e) =>
                `${mark(e.change)} ${(e.change === 'removed' ? formatBytes(e.removedBytes) : formatBytes(e.size)).padStart(10)}  ${describe(e)}`,
            )
            .join('\n'),
        );
      },
    );

  program
    .command('efficiency')
    .description('waste and efficiency of an image; exits 1 when a threshold is crossed (for CI)')
    .argument('<image>', 'name, ID or ID prefix')
    .option(
      '--max-waste <limit>',
      'most wasted bytes allowed: bytes (20MB, 5MiB) or a share of layer bytes (10%)',
      parseWasteLimit,
    )
    .option(
      '--min-efficiency <ratio>',
      'least efficiency allowed, 0 to 1 (final bytes / layer bytes)',
      parseEfficiency,
    )
    .option('--platform <os/arch>', platformHelp)
    .action(
      async (
        image: string,
        opts: { maxWaste?: WasteLimit; minEfficiency?: number; platform?: string },
        command: Command,
      ) => {
        const options = globalOptions(command);
        const store = await openStore(command);
        const explorer = await explorerOf(store);
        const report = await explorer.efficiency(await explored(store, image, opts.platform), 20);
        const failures = efficiencyFailures(report, opts);
        print(options, { ...report, passed: failures.length === 0, failures }, () =>
          [
            `Efficiency: ${(report.efficiency * 100).toFixed(2)}%`,
            `Layer bytes: ${formatBytes(report.totalBytes)} (${report.totalBytes})`,
            `Final bytes: ${formatBytes(report.finalBytes)} (${report.finalBytes})`,
            `Wasted bytes: ${formatBytes(report.wastedBytes)} (${report.wastedBytes})`,
            ...(report.paths.length === 0
              ? []
              : [
                  '',
                  table(
                    ['WASTED', 'ADDED IN', 'REMOVED IN', 'PATH'],
                    report.paths.map((p) => [
                      formatBytes(p.bytes),
                      p.addedIn.join(','),
                      p.removedIn.join(','),
                      `/${p.path}`,
                    ]),
                  ),
                ]),
            ...failures.map((f) => `FAIL: ${f}`),
            ...(failures.length === 0 && (opts.maxWaste || opts.minEfficiency !== undefined) ? ['PASS'] : []),
          ].join('\n'),
        );
        if (failures.length > 0) {
          throw new BerthError('TOO_LARGE', `${image} crosses ${failures.length} efficiency threshold(s)`, {
            failures,
          });
        }
      },
    );

  program
    .command('cat')
    .description("print a file of an image's final filesystem, read straight from its layer blob")
    .argument('<image>', 'name, ID or ID prefix')
    .argument('<path>', 'path inside the image')
    .option('--platform <os/arch>', platformHelp)
    .action(async (image: string, path: string, opts: { platform?: string }, command: Command) => {
      const store = await openStore(command);
      const explorer = await explorerOf(store);
      await explorer.copyFile(await explored(store, image, opts.platform), path, process.stdout);
    });

  program
    .command('cp')
    .description('copy a file or folder out of an image into DEST (never writing outside it)')
    .argument('<source>', 'IMAGE:/PATH')
    .argument('<dest>', 'destination folder (created when missing)')
    .option('--platform <os/arch>', platformHelp)
    .action(async (source: string, dest: string, opts: { platform?: string }, command: Command) => {
      const options = globalOptions(command);
      const { image: named, path } = splitImagePath(source);
      const store = await openStore(command);
      const image = await explored(store, named, opts.platform);
      const explorer = await explorerOf(store);
      const layers = await explorer.list(image);
      const result = await explorer.extract(image, layers.length - 1, 'merged', path, resolve(dest));
      print(options, result, () =>
        [
          `Copied ${result.written} paths (${formatBytes(result.bytes)}) to ${result.destination}`,
          ...result.skipped.map((s) => `Skipped ${s.path}: ${s.reason}`),
        ].join('\n'),
      );
    });
}

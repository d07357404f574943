import type { Command } from 'commander';
import { BerthError } from '../../../shared/error';
import { familiarName } from '../../../shared/reference';
import { displayId } from '../../core/store/image-store';
import { globalOptions, print } from '../program';
import { openStore } from './images';

/** `berth fsck`, `events`: checking the store and reading its log. */
export function registerMaintenance(program: Command): void {
  program
    .command('fsck')
    .description('verify every blob and every reference; exits 1 when the store is not clean')
    .option('--repair', 'delete corrupt blobs and mark the images that used them for a re-pull')
    .action(async (opts: { repair?: boolean }, command: Command) => {
      const report = await (await openStore(command)).fsck({ repair: opts.repair === true });
      print(globalOptions(command), report, () =>
        [
          ...report.problems,
          ...report.repaired.map((r) => `repaired: ${r}`),
          report.clean ? 'store is clean' : `${report.problems.length} problem(s) found`,
          ...(report.unreferenced > 0 ? [`${report.unreferenced} unreferenced blob(s) (not a problem)`] : []),
        ].join('\n'),
      );
      if (!report.clean) throw new BerthError('STORE_CORRUPT', 'the store is not clean');
    });

  program
    .command('events')
    .description('show what changed in the store, oldest first')
    .option('--since <time>', 'only events after a timestamp or a duration ago (10m, 24h)')
    .option('-n, --limit <count>', 'only the last <count> events', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new BerthError('BAD_REQUEST', `"${v}" is not a positive count`);
      return n;
    })
    .action(async (opts: { since?: string; limit?: number }, command: Command) => {
      const query: { since?: string; limit?: number } = {};
      if (opts.since !== undefined) query.since = opts.since;
      if (opts.limit !== undefined) query.limit = opts.limit;
      const events = await (await openStore(command)).events(query);
      print(globalOptions(command), events, () =>
        events
          .map((e) => {
            const names = e.names?.length ? ` (${e.names.map((n) => familiarName(n)).join(', ')})` : '';
            const detail = e.detail ? ` ${JSON.stringify(e.detail)}` : '';
            return `${e.time} image ${e.action}${e.id ? ` ${displayId(e.id)}` : ''}${names}${detail}`;
          })
          .join('\n'),
      );
    });
}

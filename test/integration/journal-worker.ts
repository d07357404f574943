/**
 * A process that tags and untags through the name journal, for the journal's crash and exit tests:
 *   <root> <prefix> <count>  runs the `tagOps` sequence, printing "done N" once operation N returned
 */
import { ImageStore } from '../../electron/core/store/image-store';
import { tagOps } from './store-ops';

const [root, prefix, count] = process.argv.slice(2);
const store = await ImageStore.open(root!, { lock: { staleMs: 2000 } });
let n = 0;
for (const op of tagOps(prefix!, Number(count))) {
  if (op.kind === 'tag') await store.tag('base', op.name);
  else await store.untag('base', [op.name]);
  process.stdout.write(`done ${++n}\n`);
}

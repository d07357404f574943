// A pull through Berth's pull engine in a fresh Node process, as `berth pull` will run it; the harness uses
// this until the CLI has a `pull` command, and times the whole process like it times skopeo and podman.
import { Puller } from '../../electron/core/pull/pull';
import { loadRegistryEnvironment, RegistryPool } from '../../electron/core/registry/connect';
import { ImageStore } from '../../electron/core/store/image-store';

const [storeRoot, ...references] = process.argv.slice(2);
if (storeRoot === undefined || references.length === 0)
  throw new Error('usage: pull-bench STORE REFERENCE...');
const store = await ImageStore.open(storeRoot);
const environment = await loadRegistryEnvironment();
const pool = new RegistryPool(environment);
try {
  const puller = new Puller({ store, registries: pool, conf: environment.conf });
  for (const reference of references) {
    const outcome = await puller.pull({ reference });
    process.stdout.write(
      JSON.stringify({
        reference: outcome.reference,
        status: outcome.status,
        bytesDownloaded: outcome.bytesDownloaded,
        layers: outcome.layers.length,
      }) + '\n',
    );
  }
} finally {
  await pool.close();
}

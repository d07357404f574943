/** The store commands as a standalone CLI, bundled by the tests (the full CLI also registers serve and app). */
import { createProgram, run } from '../../electron/cli/program';
import { registerImages } from '../../electron/cli/commands/images';
import { registerTagging } from '../../electron/cli/commands/tag';
import { registerMaintenance } from '../../electron/cli/commands/fsck';

process.exitCode = await run(
  createProgram('0.0.0-test', [registerImages, registerTagging, registerMaintenance]),
  process.argv,
);

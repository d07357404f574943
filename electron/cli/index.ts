import { createProgram, exitWhenPipeCloses, run } from './program';
import { registerServe } from './commands/serve';
import { registerApp } from './commands/app';
import { registerImages } from './commands/images';
import { registerTagging } from './commands/tag';
import { registerMaintenance } from './commands/fsck';
import { registerPull } from './commands/pull';
import { registerRegistry } from './commands/registry';
import { registerPush } from './commands/push';
import { registerArchive } from './commands/archive';
import { registerRootfs } from './commands/rootfs';
import { registerFiles } from './commands/files';
import { version } from '../version';

const program = createProgram(version, [
  registerServe,
  registerApp,
  registerImages,
  registerTagging,
  registerMaintenance,
  registerPull,
  registerRegistry,
  registerPush,
  registerArchive,
  registerRootfs,
  registerFiles,
]);
exitWhenPipeCloses(process.stdout);
process.exitCode = await run(program, process.argv);

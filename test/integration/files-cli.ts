/** The layer explorer's commands as a standalone CLI, bundled by the tests (the full CLI also registers serve and app). */
import { createProgram, run } from '../../electron/cli/program';
import { registerFiles } from '../../electron/cli/commands/files';

process.exitCode = await run(createProgram('0.0.0-test', [registerFiles]), process.argv);

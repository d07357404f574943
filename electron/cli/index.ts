import { createProgram, run } from './program';
import { registerServe } from './commands/serve';
import { registerApp } from './commands/app';
import { version } from '../version';

const program = createProgram(version, [registerServe, registerApp]);
process.exitCode = await run(program, process.argv);

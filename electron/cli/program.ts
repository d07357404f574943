import { Command, CommanderError } from 'commander';
import { BerthError } from '../../shared/error';
import { defaultStorePath } from '../core/settings';

/** Exit codes the CLI promises: ok, failed, bad usage. */
export const exitCode = { ok: 0, failed: 1, usage: 2 } as const;

/** Options every command sees, resolved from flags and environment. */
export interface GlobalOptions {
  store: string;
  json: boolean;
}

/** Reads the global options off any (sub)command. */
export function globalOptions(command: Command): GlobalOptions {
  const opts = command.optsWithGlobals<{ store?: string; json?: boolean }>();
  return { store: opts.store ?? defaultStorePath(), json: opts.json === true };
}

/** Prints a value as JSON (for `--json`) or as text lines. */
export function print(options: GlobalOptions, value: unknown, text: () => string): void {
  process.stdout.write(
    options.json ? JSON.stringify(value, null, 2) + '\n' : text() + (text().endsWith('\n') ? '' : '\n'),
  );
}

/** Formats rows as a left-aligned table with a header, like `docker images`. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Builds the `berth` program; commands register themselves through `register`. */
export function createProgram(version: string, register: ((program: Command) => void)[]): Command {
  const program = new Command('berth')
    .description('Berth: pull, browse, tag, push, save and load container images.')
    .version(version, '-v, --version')
    .option('--store <dir>', 'image store folder (env BERTH_STORE)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .exitOverride();
  for (const add of register) add(program);
  return program;
}

/**
 * Ends the process quietly when the reader of `stream` goes away (`berth images | head`): like ripgrep or git,
 * a closed pipe is the reader saying it has enough, not an error worth a stack trace.
 */
export function exitWhenPipeCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(exitCode.ok);
    throw err;
  });
}

/** Runs the program and maps every outcome onto the CLI's exit codes; errors print one clear line. */
export async function run(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return exitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
        return exitCode.ok;
      }
      return exitCode.usage;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`berth: ${message}\n`);
    if (err instanceof BerthError && (err.code === 'BAD_REQUEST' || err.code === 'INVALID_REFERENCE'))
      return exitCode.usage;
    return exitCode.failed;
  }
}

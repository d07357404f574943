import { Parser, type ReadEntry } from 'tar';
import { BerthError } from '../../../shared/error';
import { checkEntryName, defaultTarLimits, type SkippedEntryHandler, type TarLimits } from './tar-feed';

/*
 * Apart from tar-feed.ts so that indexing a layer (TarHeaderFeed, Berth's own header reader) does not load the
 * `tar` package: evaluating it takes 15-19 ms of a pull's start.
 */

function paxValuesHoldNul(text: string): boolean {
  if (/^\d+ /.test(text)) {
    return text.split('\n').some((record) => /^\d+ (path|linkpath)=/.test(record) && record.includes('\0'));
  }
  return text.replace(/\0+$/, '').includes('\0');
}

/**
 * Feeds uncompressed tar bytes to the `tar` package's parser and turns its warnings into BerthErrors.
 * Entries are handed to `onEntry` synchronously; a handler that does not consume an entry at once pauses
 * the feed (write() waits for the parser to drain), so memory stays at one chunk.
 */
export class TarFeed {
  private readonly parser: Parser;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private sawEof = false;
  private entries = 0;

  constructor(
    onEntry: (entry: ReadEntry) => void,
    private readonly limits: TarLimits = defaultTarLimits,
    onSkipped?: SkippedEntryHandler,
  ) {
    this.parser = new Parser({ zstd: false, maxMetaEntrySize: limits.maxPaxHeaderBytes });
    this.parser.on('entry', (entry: ReadEntry) => {
      if (this.failure) {
        entry.resume();
        return;
      }
      try {
        this.countEntry();
        this.checkName(entry.path, 'entry name');
        if (entry.linkpath !== undefined) this.checkName(entry.linkpath, 'link target');
        onEntry(entry);
      } catch (err) {
        entry.resume();
        this.fail(err);
      }
    });
    this.parser.on('ignoredEntry', (entry: ReadEntry) => {
      if (entry.meta) {
        this.fail(
          new BerthError(
            'TOO_LARGE',
            `tar extended header of ${entry.size} bytes exceeds the ${limits.maxPaxHeaderBytes}-byte cap`,
            { size: entry.size, maxPaxHeaderBytes: limits.maxPaxHeaderBytes },
          ),
        );
        return;
      }
      try {
        this.countEntry();
        onSkipped?.(entry.path, entry.type);
      } catch (err) {
        this.fail(err);
      }
    });
    this.parser.on('meta', (text: string) => {
      if (paxValuesHoldNul(text))
        this.fail(new BerthError('ARCHIVE_INVALID', 'tar entry name contains a NUL byte'));
    });
    this.parser.on('eof', () => {
      this.sawEof = true;
    });
    this.parser.on('warn', (code: string, message: string) => {
      if (code === 'TAR_BAD_ARCHIVE' && message === 'Unrecognized archive format' && this.sawEof) return;
      if (code === 'TAR_ENTRY_INFO') return;
      this.fail(new BerthError('ARCHIVE_INVALID', `layer tar is invalid: ${message}`, { tarCode: code }));
    });
    this.parser.on('error', (err: Error) => {
      this.fail(new BerthError('ARCHIVE_INVALID', `layer tar is invalid: ${err.message}`));
    });
  }

  private countEntry(): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw new BerthError('TOO_LARGE', `layer holds more than ${this.limits.maxEntries} entries`, {
        maxEntries: this.limits.maxEntries,
      });
    }
  }

  private checkName(name: string, what: string): void {
    checkEntryName(name, what, this.limits);
  }

  /** Records the first failure; later writes throw it. */
  fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.wake?.();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure;
  }

  /** Passes one chunk of uncompressed tar to the parser, resolving once it can take more. */
  async write(chunk: Buffer): Promise<void> {
    this.rethrow();
    if (this.sawEof) return;
    const more = this.parser.write(chunk);
    if (!more && !this.failure && !this.sawEof) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.parser.once('drain', resolve);
      });
      this.wake = undefined;
    }
    this.rethrow();
  }

  /** Ends the tar; rejects when it was truncated, lacked its end-of-archive marker, or failed earlier. */
  async end(): Promise<void> {
    this.rethrow();
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.parser.once('end', resolve);
      this.parser.end();
    });
    this.rethrow();
    if (!this.sawEof) {
      throw new BerthError(
        'ARCHIVE_INVALID',
        'layer tar is truncated: it ends without the end-of-archive marker',
      );
    }
  }
}

import { readFile } from 'node:fs/promises';
import { BerthError } from '../../../shared/error';
import type { SavedLogins } from '../registry/connect';
import { writeSecretFile, type RegistryCredentials } from './credentials';

/**
 * The operating system's secret protection as the desktop app sees it: Electron's `safeStorage` in the
 * main process, a fake in tests. The core never imports Electron; it is handed one of these.
 */
export interface CredentialCipher {
  isEncryptionAvailable(): boolean;
  /** Linux only: the keyring backend (`basic_text` means a hard-coded key, no protection); else undefined. */
  backend(): string | undefined;
  encryptString(plain: string): Buffer;
  decryptString(sealed: Buffer): string;
}

interface SealedFile {
  version: 1;
  /** Registry host → base64 of the cipher's output over the JSON of the credentials. */
  registries: Record<string, string>;
}

/**
 * Registry logins the desktop app keeps, each sealed by the OS keychain through a CredentialCipher and
 * written to one file with mode 0600. Saving is refused while the only backend is `basic_text` (or none):
 * the password would be on disk all but in clear. Secrets never appear in an error message.
 */
export class SealedCredentialStore implements SavedLogins {
  constructor(
    /** The file, e.g. `<userData>/credentials.json`. */
    readonly file: string,
    private readonly cipher: CredentialCipher,
  ) {}

  /** Refuses with UNSUPPORTED when the OS offers no real protection; says what to do about it. */
  assertProtected(): void {
    const backend = this.cipher.backend();
    if (!this.cipher.isEncryptionAvailable() || backend === 'basic_text') {
      throw new BerthError(
        'UNSUPPORTED',
        backend === 'basic_text'
          ? 'no keyring to protect registry passwords (Electron safeStorage has only its basic_text backend); ' +
              'start or unlock a Secret Service keyring (GNOME Keyring, KWallet), or log in with `berth login` instead'
          : 'the operating system offers no encryption for registry passwords right now; unlock your keychain, ' +
              'or log in with `berth login` instead',
        { backend: backend ?? 'unavailable' },
      );
    }
  }

  /** Seals and saves a login for `registry` (host[:port]), replacing any earlier one. */
  async save(registry: string, credentials: RegistryCredentials): Promise<void> {
    this.assertProtected();
    const doc = await this.read();
    const sealed = this.cipher.encryptString(JSON.stringify(credentials));
    doc.registries[registry] = sealed.toString('base64');
    await this.write(doc);
  }

  /** The login saved for `registry`, or undefined; a file sealed by another key is reported, not guessed at. */
  async find(registry: string): Promise<RegistryCredentials | undefined> {
    const sealed = (await this.read()).registries[registry];
    if (sealed === undefined) return undefined;
    if (!this.cipher.isEncryptionAvailable()) this.assertProtected();
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.cipher.decryptString(Buffer.from(sealed, 'base64')));
    } catch {
      throw new BerthError(
        'UNAUTHORIZED',
        `the saved login for ${registry} in ${this.file} cannot be unsealed (the keychain changed?); log in again`,
        { registry },
      );
    }
    if (!isCredentials(parsed)) {
      throw new BerthError(
        'UNAUTHORIZED',
        `the saved login for ${registry} in ${this.file} is malformed; log in again`,
        {
          registry,
        },
      );
    }
    return parsed;
  }

  /** The registries with a saved login (nothing is unsealed). */
  async registries(): Promise<string[]> {
    return Object.keys((await this.read()).registries).sort();
  }

  /** Forgets the login for `registry`; false when there was none. */
  async remove(registry: string): Promise<boolean> {
    const doc = await this.read();
    if (!(registry in doc.registries)) return false;
    delete doc.registries[registry];
    await this.write(doc);
    return true;
  }

  private async read(): Promise<SealedFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, registries: {} };
      throw err;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    const registries = (doc as Partial<SealedFile> | undefined)?.registries;
    if (
      typeof registries !== 'object' ||
      registries === null ||
      Object.values(registries).some((v) => typeof v !== 'string')
    ) {
      throw new BerthError(
        'BAD_REQUEST',
        `${this.file} is not a Berth credentials file; remove it and log in again`,
        {
          file: this.file,
        },
      );
    }
    return { version: 1, registries: { ...registries } };
  }

  private write(doc: SealedFile): Promise<void> {
    return writeSecretFile(this.file, JSON.stringify(doc) + '\n');
  }
}

function isCredentials(value: unknown): value is RegistryCredentials {
  const v = value as Partial<Record<string, unknown>> | null;
  if (typeof v !== 'object' || v === null) return false;
  if (v.kind === 'basic') return typeof v.username === 'string' && typeof v.password === 'string';
  if (v.kind === 'identity-token')
    return typeof v.token === 'string' && (v.username === undefined || typeof v.username === 'string');
  return false;
}

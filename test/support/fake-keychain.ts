import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CredentialCipher } from '../../electron/core/reference/sealed-credentials';

/** A keychain stand-in: AES-256-GCM under a key of its own, with a chosen backend name. */
export function fakeKeychain(
  backend: string | undefined = 'gnome_libsecret',
  available = true,
): CredentialCipher {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => available,
    backend: () => backend,
    encryptString: (plain) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString: (sealed) => {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

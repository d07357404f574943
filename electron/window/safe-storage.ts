import { safeStorage } from 'electron';
import type { CredentialCipher } from '../core/reference/sealed-credentials';

/** Electron's safeStorage (Keychain, DPAPI, Secret Service or KWallet) as the core's CredentialCipher. */
export function safeStorageCipher(): CredentialCipher {
  return {
    isEncryptionAvailable: () => safeStorage.isEncryptionAvailable(),
    backend: () => (process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : undefined),
    encryptString: (plain) => safeStorage.encryptString(plain),
    decryptString: (sealed) => safeStorage.decryptString(sealed),
  };
}

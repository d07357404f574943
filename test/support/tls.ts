import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throwaway certificate authority and one server certificate it signed. */
export interface TestCertificates {
  /** Path of the CA certificate (PEM). */
  caCertPath: string;
  /** The CA certificate itself (PEM). */
  caCert: string;
  /** Path of the server certificate (PEM), valid for IP 127.0.0.1 and DNS localhost. */
  serverCertPath: string;
  /** Path of the server's private key (PEM). */
  serverKeyPath: string;
  /** Server certificate (PEM). */
  serverCert: string;
  /** Server private key (PEM). */
  serverKey: string;
}

/** A self-signed ES256 key pair, as the registry's token auth wants it: the cert goes into rootcertbundle. */
export interface TestSigningKey {
  /** PKCS#8 private key (PEM). */
  keyPem: string;
  /** Self-signed certificate of the key (PEM). */
  certPem: string;
  /** Path of the certificate file (PEM). */
  certPath: string;
  /** The certificate as DER in base64, ready for a JWS `x5c` header. */
  certDerBase64: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 20_000 });
  } catch (error) {
    throw new Error(`openssl ${args.join(' ')} failed (install it: apt-get install openssl)`, {
      cause: error,
    });
  }
}

/** Generates a CA and a server certificate (SAN IP:127.0.0.1, DNS:localhost) inside `dir` with the openssl CLI. */
export async function createTestCertificates(dir: string): Promise<TestCertificates> {
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKey], dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-subj',
      '/CN=Berth Test CA',
      '-days',
      '2',
      '-sha256',
      '-out',
      ca,
    ],
    dir,
  );
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], dir);
  await openssl(['req', '-new', '-key', key, '-subj', '/CN=localhost', '-out', csr], dir);
  await writeFile(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
    ].concat(['-extfile', ext, '-out', cert]),
    dir,
  );
  return {
    caCertPath: ca,
    caCert: await readFile(ca, 'utf8'),
    serverCertPath: cert,
    serverKeyPath: key,
    serverCert: await readFile(cert, 'utf8'),
    serverKey: await readFile(key, 'utf8'),
  };
}

/** Generates the token server's signing key and its self-signed certificate inside `dir`. */
export async function createSigningKey(dir: string): Promise<TestSigningKey> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath], dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-subj',
      '/CN=Berth Test Token Issuer',
      '-days',
      '2',
      '-sha256',
    ].concat(['-out', certPath]),
    dir,
  );
  const certPem = await readFile(certPath, 'utf8');
  const certDerBase64 = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { keyPem: await readFile(keyPath, 'utf8'), certPem, certPath, certDerBase64 };
}

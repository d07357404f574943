/** The project's home page, opened from Help → Documentation. */
export const projectUrl = 'https://github.com/berth-app/berth#readme';

/** Specifications the Help menu links to. */
export const specUrls = {
  imageSpec: 'https://github.com/opencontainers/image-spec/blob/main/spec.md',
  distributionSpec: 'https://github.com/opencontainers/distribution-spec/blob/main/spec.md',
} as const;

/** Hosts whose https pages the app may hand to the system browser; everything else is dropped. */
export const externalHosts: ReadonlySet<string> = new Set([
  'github.com',
  'hub.docker.com',
  'docs.docker.com',
  'quay.io',
  'specs.opencontainers.org',
]);

/**
 * True when `url` may be passed to `shell.openExternal`: https, default port, no credentials, and a host
 * on the allowlist. Any other scheme (file:, smb:, custom handlers) could run code on the user's machine.
 */
export function isAllowedExternalUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === 'https:' &&
    parsed.port === '' &&
    parsed.username === '' &&
    parsed.password === '' &&
    externalHosts.has(parsed.hostname)
  );
}

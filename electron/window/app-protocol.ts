import { readFile } from 'node:fs/promises';
import { contentTypeFor, rendererFileFor } from './app-origin';

/**
 * Answers one `berth://app/…` request from the built renderer folder: GET only, files inside the folder
 * only, each response carrying the CSP (custom-protocol responses bypass `webRequest` header hooks).
 */
export async function respondFromBundle(
  request: Request,
  rendererDir: string,
  csp: string,
): Promise<Response> {
  const headers = { 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff' };
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers });
  }
  const file = rendererFileFor(request.url, rendererDir);
  if (file === undefined) return new Response(null, { status: 404, headers });
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return new Response(null, { status: 404, headers });
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: { ...headers, 'Content-Type': contentTypeFor(file) },
  });
}

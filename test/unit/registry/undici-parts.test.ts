import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, EnvHttpProxyAgent, request } from '../../../electron/core/registry/undici-parts';

describe('undici parts loaded by file', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('are the very classes the package entry exports (an undici upgrade that moves them fails here)', () => {
    expect(Agent).toBe(undici.Agent);
    expect(EnvHttpProxyAgent).toBe(undici.EnvHttpProxyAgent);
  });

  it('request sends method, path with query, headers and body through the given dispatcher', async () => {
    let seen: { method?: string; url?: string; header?: string; body: string } = { body: '' };
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, header: req.headers['x-probe'] as string, body };
        res.writeHead(201, { 'x-answer': 'yes' }).end('done');
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent();
    try {
      const response = await request(new URL(`http://127.0.0.1:${port}/v2/x/tags/list?n=5`), {
        method: 'PUT',
        headers: { 'x-probe': 'p' },
        body: 'payload',
        dispatcher: agent,
      });
      expect(response.statusCode).toBe(201);
      expect(response.headers['x-answer']).toBe('yes');
      expect(await response.body.text()).toBe('done');
      expect(seen).toEqual({ method: 'PUT', url: '/v2/x/tags/list?n=5', header: 'p', body: 'payload' });
    } finally {
      await agent.close();
    }
  });
});

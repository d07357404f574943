import { createRequire } from 'node:module';
import type { Agent as AgentClass, Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentClass } from 'undici';

/*
 * undici's package entry loads everything it has (fetch, WebSocket, EventSource, mocks, caches, interceptors):
 * about 100 ms of a CLI pull's start. The transport needs three pieces, loaded here by their files. The
 * unit test registry/undici-parts.test.ts checks they are the very objects the package entry exports.
 */
const load = createRequire(import.meta.url);

/** undici's Agent (one connection pool per origin), loaded without the rest of the package. */
export const Agent = load('undici/lib/dispatcher/agent.js') as typeof AgentClass;

/** undici's EnvHttpProxyAgent (forward proxies with NO_PROXY), loaded without the rest of the package. */
export const EnvHttpProxyAgent = load(
  'undici/lib/dispatcher/env-http-proxy-agent.js',
) as typeof EnvHttpProxyAgentClass;

const dispatcherRequest = load('undici/lib/api/api-request.js') as (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/** undici's `request(url, options)` through `options.dispatcher`, as the package entry's `request` does it. */
export function request(
  url: URL,
  options: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher },
): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  return dispatcherRequest.call(dispatcher, {
    ...rest,
    origin: url.origin,
    path: url.search ? `${url.pathname}${url.search}` : url.pathname,
  });
}

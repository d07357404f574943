import { BerthError } from './error';
import type { BerthBridge, BerthClient } from './contract';

/** Wraps a bridge that returns Outcomes into a client that throws BerthError, for the renderer's convenience. */
export function clientFromBridge(bridge: BerthBridge): BerthClient {
  return {
    async invoke(name, params) {
      const outcome = await bridge.invoke(name, params);
      if (!outcome.ok) throw BerthError.fromWire(outcome.error);
      return outcome.value;
    },
    subscribe: (name, listener) => bridge.subscribe(name, listener),
  };
}

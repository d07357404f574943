import { BerthError, toWireError } from '../../shared/error';
import { isOperation, type Handlers, type Outcome } from '../../shared/contract';

/**
 * Runs one contract call against the handlers and always resolves to an Outcome: unknown operation names
 * and malformed params become BAD_REQUEST, thrown errors become typed WireErrors. Both transports use it.
 */
export async function dispatch(
  handlers: Handlers,
  name: unknown,
  params: unknown,
): Promise<Outcome<unknown>> {
  try {
    if (!isOperation(name)) throw new BerthError('BAD_REQUEST', `unknown operation ${JSON.stringify(name)}`);
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new BerthError('BAD_REQUEST', `params of ${name} must be an object`);
    }
    const handler = handlers[name] as (p: unknown) => Promise<unknown>;
    return { ok: true, value: await handler(params) };
  } catch (err) {
    return { ok: false, error: toWireError(err) };
  }
}

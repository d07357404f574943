import { describe, expectTypeOf, test } from 'vitest';
import type {
  BerthBridge,
  BerthClient,
  Handlers,
  ImageDetails,
  ImageSummary,
  Operation,
  Outcome,
  Params,
  PullProgress,
  Result,
  Settings,
} from '../../shared/contract';
import { createHandlers } from '../../electron/ipc/handlers';

declare const handlers: Handlers;
declare const client: BerthClient;
declare const bridge: BerthBridge;

describe('Handlers', () => {
  test('the real handler object covers the contract', () => {
    expectTypeOf(createHandlers).returns.toEqualTypeOf<Handlers>();
    expectTypeOf<keyof Handlers>().toEqualTypeOf<Operation>();
  });

  test('an object missing an operation does not typecheck', () => {
    const { 'pull:list': _dropped, ...incomplete } = handlers;
    // @ts-expect-error -- 'pull:list' has no handler
    const missing: Handlers = incomplete;
    expectTypeOf(missing).toEqualTypeOf<Handlers>();
  });

  test('a misspelt operation does not typecheck', () => {
    const { 'images:list': list, ...rest } = handlers;
    // @ts-expect-error -- 'image:list' is not an operation, and 'images:list' is then missing
    const misspelt: Handlers = { ...rest, 'image:list': list };
    expectTypeOf(misspelt).toEqualTypeOf<Handlers>();
  });

  test('a handler with the wrong params does not typecheck', () => {
    const wrongParams: Handlers = {
      ...handlers,
      // @ts-expect-error -- images:inspect takes { image }, not { name }
      'images:inspect': (params: { name: string }) => handlers['images:inspect']({ image: params.name }),
    };
    expectTypeOf(wrongParams).toEqualTypeOf<Handlers>();
  });

  test('a handler with the wrong result does not typecheck', () => {
    const wrongResult: Handlers = {
      ...handlers,
      // @ts-expect-error -- images:history resolves to HistoryEntry[], not a string
      'images:history': () => Promise.resolve('history'),
    };
    expectTypeOf(wrongResult).toEqualTypeOf<Handlers>();
  });

  test('a handler that does not return a promise does not typecheck', () => {
    const synchronous: Handlers = {
      ...handlers,
      // @ts-expect-error -- handlers are async: a bare value is not a Promise
      'images:list': () => [] as ImageSummary[],
    };
    expectTypeOf(synchronous).toEqualTypeOf<Handlers>();
  });
});

describe('BerthClient', () => {
  test('invoke results follow the operation name', () => {
    expectTypeOf(client.invoke('images:list', {})).resolves.toEqualTypeOf<ImageSummary[]>();
    expectTypeOf(client.invoke('images:inspect', { image: 'alpine' })).resolves.toEqualTypeOf<ImageDetails>();
    expectTypeOf(client.invoke('settings:update', { theme: 'dark' })).resolves.toEqualTypeOf<Settings>();
    expectTypeOf(client.invoke('pull:start', { reference: 'alpine' })).resolves.toEqualTypeOf<{
      pullId: string;
    }>();
    expectTypeOf<Result<'images:remove'>>().toHaveProperty('bytesFreed').toEqualTypeOf<number>();
  });

  test('invoke params follow the operation name', () => {
    expectTypeOf<Params<'images:tag'>>().toEqualTypeOf<{ image: string; name: string }>();
    // @ts-expect-error -- images:inspect needs { image }
    void client.invoke('images:inspect', {});
    // @ts-expect-error -- image must be a string
    void client.invoke('images:inspect', { image: 42 });
    // @ts-expect-error -- theme is 'light' | 'dark' | 'system'
    void client.invoke('settings:update', { theme: 'blue' });
    // @ts-expect-error -- 'images:explode' is not an operation
    void client.invoke('images:explode', {});
  });

  test('subscribe hands each listener its own event payload', () => {
    client.subscribe('pull:progress', (payload) => expectTypeOf(payload).toEqualTypeOf<PullProgress>());
    expectTypeOf(client.subscribe('store:changed', () => undefined)).toEqualTypeOf<() => void>();
    // @ts-expect-error -- 'pull:exploded' is not an event
    client.subscribe('pull:exploded', () => undefined);
  });

  test('the bridge returns outcomes, not bare values', () => {
    expectTypeOf(bridge.invoke('images:list', {})).resolves.toEqualTypeOf<Outcome<ImageSummary[]>>();
  });
});

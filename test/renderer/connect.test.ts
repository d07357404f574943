import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect } from '../../renderer/src/client/connect';
import type { BerthBridge } from '../../shared/contract';

afterEach(() => {
  delete window.berth;
  vi.unstubAllGlobals();
});

describe('connect', () => {
  it('uses the preload bridge when there is one, turning error outcomes into BerthErrors', async () => {
    const seen: string[] = [];
    const bridge: BerthBridge = {
      invoke: (name) => {
        seen.push(name);
        return Promise.resolve(
          name === 'images:list'
            ? { ok: true, value: [] }
            : { ok: false, error: { code: 'IMAGE_UNKNOWN', message: 'no such image' } },
        );
      },
      subscribe: () => () => undefined,
    };
    window.berth = bridge;
    const { client, connection } = connect();
    expect(connection).toBeUndefined();
    await expect(client.invoke('images:list', {})).resolves.toEqual([]);
    await expect(client.invoke('images:inspect', { image: 'x' })).rejects.toMatchObject({
      name: 'BerthError',
      code: 'IMAGE_UNKNOWN',
    });
    expect(seen).toEqual(['images:list', 'images:inspect']);
  });

  it('otherwise dials /ws on the page origin and reports the connection', () => {
    const urls: string[] = [];
    class RecordingSocket {
      constructor(url: string) {
        urls.push(url);
      }
      addEventListener(): void {}
      send(): void {}
      close(): void {}
    }
    vi.stubGlobal('WebSocket', RecordingSocket);
    const { connection } = connect();
    expect(urls).toEqual([`ws://${window.location.host}/ws`]);
    expect(connection?.getState()).toBe('connecting');
  });
});

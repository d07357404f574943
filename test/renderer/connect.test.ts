import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, preloadedAnswers } from '../../renderer/src/client/connect';
import { firstImagePageParams, preloadElementId } from '../../shared/image-page';
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

describe('preloadedAnswers', () => {
  const pageWith = (text: string | undefined): Document => {
    const doc = document.implementation.createHTMLDocument('Berth');
    if (text !== undefined) {
      const block = doc.createElement('script');
      block.id = preloadElementId;
      block.type = 'application/json';
      block.textContent = text;
      doc.head.append(block);
    }
    return doc;
  };

  it('reads the answers berth serve put in the page, and nothing from a page without or with a broken block', () => {
    const answers = [{ op: 'images:page', params: firstImagePageParams, outcome: { ok: true, value: 1 } }];
    expect(preloadedAnswers(pageWith(JSON.stringify(answers)))).toEqual(answers);
    expect(preloadedAnswers(pageWith(undefined))).toEqual([]);
    expect(preloadedAnswers(pageWith('{not json'))).toEqual([]);
    expect(preloadedAnswers(pageWith('{"op":"images:page"}'))).toEqual([]);
    expect(preloadedAnswers(pageWith('[1, {"params":{}}, {"op":"images:list"}]'))).toEqual([
      { op: 'images:list' },
    ]);
  });
});

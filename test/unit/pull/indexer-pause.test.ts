import { describe, expect, it } from 'vitest';
import { IndexerPause } from '../../../electron/core/pull/indexer-pause';

/** A source whose chunks the test hands out one by one, and the chunks `pause.through` let past so far. */
function gated(pause: IndexerPause) {
  const passed: string[] = [];
  const source = ['a', 'b', 'c'].map((name) => Buffer.from(name));
  const reading = (async () => {
    for await (const chunk of pause.through(toAsync(source))) passed.push(chunk.toString());
  })();
  return { passed, reading };
}

/** The chunks as an async iterable, as a follower gives them. */
async function* toAsync(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('IndexerPause', () => {
  it('starts held, so a pull that saturates this thread from its first byte never feeds the indexers', async () => {
    const pause = new IndexerPause();
    const { passed } = gated(pause);
    await settle();
    expect(passed).toEqual([]);
    for (let i = 0; i < 20; i++) pause.observe(1);
    await settle();
    expect(passed).toEqual([]);
  });

  it('lets go after five calm samples in a row (a slow network), not after one gap between reads', async () => {
    const pause = new IndexerPause();
    const { passed, reading } = gated(pause);
    for (let i = 0; i < 4; i++) pause.observe(0.3);
    pause.observe(0.95);
    for (let i = 0; i < 4; i++) pause.observe(0.3);
    await settle();
    expect(passed).toEqual([]);
    pause.observe(0.3);
    await reading;
    expect(passed).toEqual(['a', 'b', 'c']);
  });

  it('holds again as soon as the thread is saturated, and while the pull commits', async () => {
    const pause = new IndexerPause();
    for (let i = 0; i < 5; i++) pause.observe(0);
    pause.observe(0.9);
    const { passed } = gated(pause);
    await settle();
    expect(passed).toEqual([]);
    let release = (): void => undefined;
    const committing = pause.during(() => new Promise<void>((resolve) => (release = resolve)));
    for (let i = 0; i < 5; i++) pause.observe(0);
    await settle();
    expect(passed).toEqual([]);
    release();
    await committing;
    await settle();
    expect(passed).toEqual(['a', 'b', 'c']);
  });

  it('lets go once the downloads are over (the watch stops)', async () => {
    const pause = new IndexerPause();
    const stop = pause.watch(60_000);
    const { passed, reading } = gated(pause);
    await settle();
    expect(passed).toEqual([]);
    stop();
    await reading;
    expect(passed).toEqual(['a', 'b', 'c']);
  });
});

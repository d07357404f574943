import { describe, expect, it } from 'vitest';
import { analyzeWaste } from '../../../electron/core/layers/waste.js';
import { indexImage } from './layer-fixtures.js';

describe('analyzeWaste', () => {
  it('counts overwritten, deleted and duplicated bytes but never the surviving copy', async () => {
    const layers = await indexImage([
      [
        { path: 'big', size: 1000 },
        { path: 'keep', size: 200 },
        { path: 'dir/x', size: 300 },
        { path: 'dir/y', size: 400 },
        { path: 'dup', size: 50 },
        { path: 'dup', size: 60 },
      ],
      [
        { path: 'big', size: 1500 },
        { path: 'dir', type: 'whiteout' },
      ],
      [{ path: 'big', size: 500 }],
    ]);
    const report = await analyzeWaste(layers);
    // Layer bytes: 1000+200+300+400+50+60 = 2010, then 1500, then 500.
    expect(report.totalBytes).toBe(4010);
    // Survivors: big@2 (500) + keep (200) + dup (60).
    expect(report.finalBytes).toBe(760);
    // big@0 (1000) + big@1 (1500) + dir/x (300) + dir/y (400) + first dup (50).
    expect(report.wastedBytes).toBe(3250);
    expect(report.totalBytes).toBe(report.finalBytes + report.wastedBytes);
    expect(report.efficiency).toBeCloseTo(760 / 4010, 10);
    expect(report.items.map((i) => [i.path, i.bytes, i.addedIn, i.removedIn, i.kind])).toEqual([
      ['big', 1500, 1, 2, 'overwritten'],
      ['big', 1000, 0, 1, 'overwritten'],
      ['dir/y', 400, 0, 1, 'deleted'],
      ['dir/x', 300, 0, 1, 'deleted'],
      ['dup', 50, 0, 0, 'duplicate'],
    ]);
    expect(report.paths[0]).toEqual({ path: 'big', bytes: 2500, addedIn: [0, 1], removedIn: [1, 2] });
    expect(report.layers).toEqual([
      { layer: 0, bytes: 2010, wastedBytes: 1750 },
      { layer: 1, bytes: 1500, wastedBytes: 1500 },
      { layer: 2, bytes: 500, wastedBytes: 0 },
    ]);
  });

  it('reports full efficiency for an image without waste or without files', async () => {
    expect((await analyzeWaste(await indexImage([[{ path: 'a', size: 5 }]]))).efficiency).toBe(1);
    expect(await analyzeWaste(await indexImage([[]]))).toMatchObject({
      totalBytes: 0,
      efficiency: 1,
      items: [],
    });
  });
});

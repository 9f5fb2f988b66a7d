import { describe, expect, it } from 'vitest';
import { batchLoader } from './batch';

describe('batchLoader', () => {
  it('reads the keys asked for in one event-loop turn together, each caller its own value', async () => {
    const loads: string[][] = [];
    const load = batchLoader((keys: string[]) => {
      loads.push(keys);
      return Promise.resolve(new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.length])));
    });
    // Separate callbacks of one turn, as requests read from several sockets are.
    const asked = ['a', 'bb', 'a', 'none', 'ccc'].map(
      (k) => new Promise((r) => setImmediate(() => r(load(k)))),
    );
    expect(await Promise.all(asked)).toEqual([1, 2, 1, undefined, 3]);
    expect(loads).toEqual([['a', 'bb', 'none', 'ccc']]);
    // A later turn is read afresh: nothing is cached.
    expect(await load('a')).toBe(1);
    expect(loads).toHaveLength(2);
  });

  it('a failed read rejects every caller of its group; the next group is read again', async () => {
    let fail = true;
    const load = batchLoader((keys: number[]) =>
      fail ? Promise.reject(new Error('database down')) : Promise.resolve(new Map([[keys[0]!, 7]])),
    );
    const first = await Promise.allSettled([load(1), load(2)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await load(1)).toBe(7);
  });
});

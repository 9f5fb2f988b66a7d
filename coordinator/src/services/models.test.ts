import { beforeEach, expect, it } from 'vitest';
import { modelVersions, models } from '../db';
import { describeDatabases } from '../db/testing';
import { isCoordinatorError } from '../errors';
import { getVersion, latestVersion } from './models';

describeDatabases('model versions', (h) => {
  let selects = 0;
  /** The harness's database, counting the reads made through it. */
  const counting = () => ({
    db: new Proxy(h.db, {
      get(target, prop, receiver) {
        if (prop === 'select') selects++;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }),
  });
  const weights = (v: number) => new Uint8Array(new Float32Array([v, v, v]).buffer);

  beforeEach(async () => {
    await h.reset();
    await h.db.insert(models).values({ id: 'm', name: 'M', kind: 'test', dim: 3, config: {} });
    await h.db.insert(modelVersions).values([
      { modelId: 'm', version: 0, weights: weights(0) },
      { modelId: 'm', version: 1, weights: weights(1), metrics: { eval: { loss: 2 } } },
    ]);
  });

  it('members asking for the same weights at once cost one read, and later ones none', async () => {
    const ctx = counting();
    selects = 0;
    const got = await Promise.all(Array.from({ length: 20 }, () => getVersion(ctx, 'm', 1)));
    expect(selects).toBe(1);
    expect(new Set(got).size).toBe(1);
    expect(Array.from(got[0]!.weights)).toEqual(Array.from(weights(1)));
    await getVersion(ctx, 'm', 1);
    expect(selects).toBe(1);
  });

  it('a version not (yet) written is NotFound, and not remembered as missing', async () => {
    const ctx = counting();
    const missing = await getVersion(ctx, 'm', 2).catch((e: unknown) => e);
    expect(isCoordinatorError(missing) && missing.code).toBe('NotFound');
    await h.db.insert(modelVersions).values({ modelId: 'm', version: 2, weights: weights(2) });
    expect((await getVersion(ctx, 'm', 2)).version).toBe(2);
  });

  it('the latest version is its number and metrics, without reading the weights', async () => {
    const latest = await latestVersion({ db: h.db }, 'm');
    expect(latest).toEqual({ version: 1, metrics: { eval: { loss: 2 } } });
    const none = await latestVersion({ db: h.db }, 'other').catch((e: unknown) => e);
    expect(isCoordinatorError(none) && none.code).toBe('NotFound');
  });
});

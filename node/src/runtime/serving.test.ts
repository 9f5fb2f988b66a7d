import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedStore } from '../store/open';
import { MEMORY_STORE, openStore } from '../store/open';
import {
  personalizedVersion,
  saveModelVersion,
  savePersonalizedVersion,
  servedModelVersion,
} from './state';

let store: OpenedStore;
beforeAll(async () => {
  store = await openStore(MEMORY_STORE);
}, 60_000);
afterAll(async () => {
  await store.close();
});

const w = (v: number) => Float32Array.from([v, v + 0.5]);

describe('servedModelVersion (what the prediction API serves of a model)', () => {
  it('serves the newest global version, or this shop’s personalized copy of exactly that version', async () => {
    const db = store.db;
    expect(await servedModelVersion(db, 'fraud')).toBeUndefined();
    await saveModelVersion(db, 'fraud', 1, w(1));
    expect(await servedModelVersion(db, 'fraud')).toEqual({
      version: 1,
      weights: w(1),
      personalized: false,
    });
    expect(await personalizedVersion(db, 'fraud', 1)).toBeUndefined();
    await savePersonalizedVersion(db, 'fraud', 1, w(10));
    expect(await personalizedVersion(db, 'fraud', 1)).toEqual(w(10));
    expect(await servedModelVersion(db, 'fraud')).toEqual({
      version: 1,
      weights: w(10),
      personalized: true,
    });
    // A newer global version replaces an older personalized copy until it is personalized too.
    await saveModelVersion(db, 'fraud', 2, w(2));
    expect(await servedModelVersion(db, 'fraud')).toEqual({
      version: 2,
      weights: w(2),
      personalized: false,
    });
    await savePersonalizedVersion(db, 'fraud', 2, w(20));
    await savePersonalizedVersion(db, 'fraud', 2, w(21)); // re-personalized: the newest copy
    expect(await servedModelVersion(db, 'fraud')).toMatchObject({ version: 2, weights: w(21) });
    // Other models are untouched; the global rows stay what the coordinator sent.
    expect(await servedModelVersion(db, 'demand')).toBeUndefined();
  });
});

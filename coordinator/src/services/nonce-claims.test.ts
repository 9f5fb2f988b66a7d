import { count } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { nodeId } from '@coopfl/protocol';
import { members, requestNonces } from '../db';
import { describeDatabases } from '../db/testing';
import { NonceClaims } from './nonce-claims';

const shop = nodeId('shop-a');
const later = new Date(Date.now() + 60_000);

describeDatabases('nonce claims (group commit)', (h) => {
  beforeEach(async () => {
    await h.reset();
    await h.db.insert(members).values({ id: shop, name: 'Shop A', status: 'approved' });
  });

  it('concurrent claims are stored together; each nonce is claimed once', async () => {
    let statements = 0;
    const counting = new NonceClaims({
      db: new Proxy(h.db, {
        get(target, prop, receiver) {
          if (prop === 'insert') statements++;
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }),
    });
    const nonces = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const results = await Promise.all(
      [...nonces, 'n3', 'n7'].map((n) => counting.claim(shop, n, later)),
    );
    // 40 fresh nonces succeed; the two repeats (same batch or a later one) are replays.
    expect(results.filter(Boolean)).toHaveLength(40);
    expect(results.slice(40)).toEqual([false, false]);
    expect(statements).toBeLessThanOrEqual(3);
    const [stored] = await h.db.select({ n: count() }).from(requestNonces);
    expect(Number(stored!.n)).toBe(40);
    // A nonce stored earlier stays a replay for a new claimer (another coordinator).
    expect(await new NonceClaims({ db: h.db }).claim(shop, 'n5', later)).toBe(false);
    expect(await new NonceClaims({ db: h.db }).claim(shop, 'fresh', later)).toBe(true);
  });

  it('a failing insert rejects its claims, and later claims still work', async () => {
    const claims = new NonceClaims({ db: h.db });
    // An unknown member violates the foreign key: its batch fails and nothing is stored.
    await expect(claims.claim(nodeId('ghost'), 'x', later)).rejects.toThrow();
    expect(await claims.claim(shop, 'y', later)).toBe(true);
    const [stored] = await h.db.select({ n: count() }).from(requestNonces);
    expect(Number(stored!.n)).toBe(1);
  });
});

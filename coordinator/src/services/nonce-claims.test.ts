import { count, eq } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { nodeId } from '@coopfl/protocol';
import { memberKeys, members, requestNonces } from '../db';
import { describeDatabases } from '../db/testing';
import type { Claimant } from './nonce-claims';
import { NonceClaims } from './nonce-claims';

const key = new Uint8Array(32).fill(7);
const shop: Claimant = { memberId: nodeId('shop-a'), status: 'approved', publicKey: key };
const later = new Date(Date.now() + 60_000);

describeDatabases('nonce claims (group commit)', (h) => {
  const stored = async () => Number((await h.db.select({ n: count() }).from(requestNonces))[0]!.n);

  beforeEach(async () => {
    await h.reset();
    await h.db.insert(members).values({ id: shop.memberId, name: 'Shop A', status: 'approved' });
    await h.db.insert(memberKeys).values({ memberId: shop.memberId, publicKey: key });
  });

  let statements = 0;
  const countingClaims = () =>
    new NonceClaims({
      db: new Proxy(h.db, {
        get(target, prop, receiver) {
          if (prop === 'insert') statements++;
          return Reflect.get(target, prop, receiver) as unknown;
        },
      }),
    });

  it('concurrent claims are stored together; each nonce is claimed once', async () => {
    statements = 0;
    const counting = countingClaims();
    const nonces = Array.from({ length: 40 }, (_, i) => `n${i}`);
    const results = await Promise.all(
      [...nonces, 'n3', 'n7'].map((n) => counting.claim(shop, n, later)),
    );
    // 40 fresh nonces succeed; the two repeats (same batch or a later one) are replays.
    expect(results.filter(Boolean)).toHaveLength(40);
    expect(results.slice(40)).toEqual([false, false]);
    expect(statements).toBe(1);
    expect(await stored()).toBe(40);
    // A nonce stored earlier stays a replay for a new claimer (another coordinator).
    expect(await new NonceClaims({ db: h.db }).claim(shop, 'n5', later)).toBe(false);
    expect(await new NonceClaims({ db: h.db }).claim(shop, 'fresh', later)).toBe(true);
  });

  it('claims made by separate callbacks of one event-loop turn share a statement', async () => {
    // Requests read from several sockets in one poll phase: PGlite answers synchronously, so only
    // waiting for the turn to end groups them.
    statements = 0;
    const counting = countingClaims();
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) =>
          new Promise<boolean>((resolve, reject) =>
            setImmediate(() => void counting.claim(shop, `s${i}`, later).then(resolve, reject)),
          ),
      ),
    );
    expect(results).toEqual(Array.from({ length: 10 }, () => true));
    expect(statements).toBe(1);
    expect(await stored()).toBe(10);
  });

  it('a failing insert rejects its claims, and later claims still work', async () => {
    const claims = new NonceClaims({ db: h.db });
    // PostgreSQL refuses a NUL character in text: the batch fails and nothing is stored.
    await expect(claims.claim(shop, 'x\u0000', later)).rejects.toThrow();
    expect(await claims.claim(shop, 'y', later)).toBe(true);
    expect(await stored()).toBe(1);
  });

  it("refuses, storing nothing, a claimant whose status or key is no longer the member's", async () => {
    const claims = new NonceClaims({ db: h.db });
    const other = new Uint8Array(32).fill(9);
    // Unknown member, another key, another status: each refused in the same statement.
    expect(await claims.claim({ ...shop, memberId: nodeId('ghost') }, 'a', later)).toBe(false);
    expect(await claims.claim({ ...shop, publicKey: other }, 'b', later)).toBe(false);
    expect(await claims.claim({ ...shop, status: 'pending' }, 'c', later)).toBe(false);
    expect(await stored()).toBe(0);
    // After a rotation the old key is refused and the new one accepted; after revocation neither.
    await h.db
      .update(memberKeys)
      .set({ revokedAt: new Date() })
      .where(eq(memberKeys.memberId, shop.memberId));
    await h.db.insert(memberKeys).values({ memberId: shop.memberId, publicKey: other });
    expect(await claims.claim(shop, 'd', later)).toBe(false);
    expect(await claims.claim({ ...shop, publicKey: other }, 'd', later)).toBe(true);
    await h.db.update(members).set({ status: 'revoked' }).where(eq(members.id, shop.memberId));
    expect(await claims.claim({ ...shop, publicKey: other }, 'e', later)).toBe(false);
    expect(await stored()).toBe(1);
  });
});

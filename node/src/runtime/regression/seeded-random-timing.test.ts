import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RandomSource } from '@coopfl/protocol';
import { cryptoReady, seededRandom } from '@coopfl/protocol';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import type { TestNode } from '../testing';
import { dropTestNode, smallCooperative, testCoordinator, testNode } from '../testing';

/**
 * A node opened with a seeded `random` (the simulator's reproducible nodes) drew its request
 * nonces and retry jitter from that stream too. How many requests a round makes depends on
 * timing (a long poll that expires is asked again), so at 100 simulated shops the same seed gave
 * slightly different federated models from run to run. Requests now draw from the CSPRNG.
 */

/** A seeded source that counts the bytes drawn from it. */
class Counting implements RandomSource {
  drawn = 0;
  readonly #inner = seededRandom(3);
  fill(out: Uint8Array): void {
    this.drawn += out.length;
    this.#inner.fill(out);
  }
}

let running: RunningCoordinator;
let admin: AdminClient;
let t: TestNode | undefined;
const random = new Counting();

beforeAll(async () => {
  await cryptoReady();
  ({ running, admin } = await testCoordinator());
  const tables = smallCooperative({ shops: 1, days: 120, customersPerShop: 30 });
  t = await testNode(running, admin, tables, String(tables.orders[0]!.store_id), { random });
}, 60_000);

afterAll(async () => {
  await dropTestNode(t);
  await running?.close();
});

it('signs requests without drawing from the seeded random source', async () => {
  await t!.node.consent.set({ models: ['fraud'] });
  await t!.node.status();
  await t!.node.run({ once: true });
  await t!.node.run({ once: true });
  expect(random.drawn).toBe(0);
});

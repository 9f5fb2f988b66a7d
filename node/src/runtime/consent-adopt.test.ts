import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import type { RunningCoordinator } from '@coopfl/coordinator';
import type { AdminClient } from '@coopfl/coordinator/client';
import { adminClient } from '@coopfl/coordinator/client';
import type { TestNode } from './testing';
import { dropTestNode, smallCooperative, storeIdsOf, testCoordinator, testNode } from './testing';

/**
 * DESIGN §8: the member may edit its consent in the dashboard (through the coordinator); the
 * node's own setting stays authoritative, so the node adopts the edit as its own on its next poll
 * and syncs it back.
 */
let running: RunningCoordinator;
let admin: AdminClient;
let t: TestNode;

beforeAll(async () => {
  await cryptoReady();
  ({ running, admin } = await testCoordinator());
  const tables = smallCooperative({ customersPerShop: 30, days: 60 });
  t = await testNode(running, admin, tables, storeIdsOf(tables)[0]!);
}, 120_000);
afterAll(async () => {
  await dropTestNode(t);
  await running?.close();
});

describe('consent edited in the dashboard', () => {
  it('is adopted by the node on its next poll, then mirrored back as the node’s own', async () => {
    const link = await t.node.dashboardLink('http://127.0.0.1:8789');
    const token = new URL(link.url).searchParams.get('token')!;
    const session = await adminClient(running.url).auth.memberLogin.mutate({ token });
    const member = adminClient(running.url, session.token);
    await member.dashboard.setConsent.mutate({
      models: ['fraud'],
      kpis: ['fraud_rate'],
      epsilonCaps: { fraud: 2 },
    });
    expect((await t.node.consent.get()).consent.models).toBeUndefined();

    await t.node.run({ once: true, onEvent: (e) => t.events.push(e) });
    expect(t.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['consent-adopted', 'consent-synced']),
    );
    expect(await t.node.consent.get()).toEqual({
      consent: { models: ['fraud'], kpis: ['fraud_rate'], epsilonCaps: { fraud: 2 } },
      synced: true,
    });
    const page = await member.dashboard.member.query({ memberId: session.memberId });
    expect(page.consentSource).toBe('node');

    // A later change made on the node itself wins over the (older) dashboard edit.
    await t.node.consent.set({ models: ['demand'] });
    t.events.length = 0;
    await t.node.run({ once: true, onEvent: (e) => t.events.push(e) });
    expect(t.events.map((e) => e.type)).not.toContain('consent-adopted');
    expect((await member.dashboard.member.query({ memberId: session.memberId })).consent).toEqual(
      expect.objectContaining({ models: ['demand'] }),
    );
  });
});

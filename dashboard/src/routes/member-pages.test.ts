import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetNode } from '@coopfl/coordinator/testing/fleet';
import { takePart, waitForRound } from '@coopfl/coordinator/testing/fleet';
import type { AdminClient } from '@coopfl/coordinator/client';
import {
  adminSession,
  cookieJar,
  eventOf,
  localsOf,
  memberSession,
  failure,
  outcome,
  startCooperative,
  value,
} from '../testing/harness';
import { SESSION_COOKIE } from '$lib/server/session';
import * as memberLogin from './login/member/+page.server';
import * as overview from './+page.server';
import * as members from './members/+page.server';
import * as memberPage from './members/[id]/+page.server';
import * as roundsPage from './rounds/+page.server';
import * as roundPage from './rounds/[id]/+page.server';
import * as privacy from './privacy/+page.server';
import * as consent from './consent/+page.server';
import * as settings from './settings/+page.server';
import * as benchmarks from './benchmarks/+page.server';

describe('member pages (server side, real coordinator)', () => {
  let running: Awaited<ReturnType<typeof startCooperative>>['running'];
  let admin: AdminClient;
  let nodes: FleetNode[];
  let me: Awaited<ReturnType<typeof memberSession>>;
  let adminLocals: App.Locals;

  beforeAll(async () => {
    ({ running, admin, nodes } = await startCooperative(3));
    await admin.models.create.mutate({
      id: 'opaque',
      kind: 'custom',
      dim: 4,
      config: { dp: { mode: 'central', noiseMultiplier: 1, epsilonBudget: 50 } },
    });
    await admin.models.create.mutate({ id: 'other', kind: 'custom', dim: 4 });
    me = await memberSession(running.url, nodes[0]!);
    ({ locals: adminLocals } = await adminSession(running.url));
  }, 60_000);
  afterAll(() => running?.close());

  it('benchmarks: published aggregates only, the member named so the page can check its node; anonymous goes to login', async () => {
    const mine = await value(() =>
      benchmarks.load(eventOf({ path: '/benchmarks', locals: me.locals })),
    );
    expect(mine).toMatchObject({ role: 'member', memberId: nodes[0]!.memberId, runs: [] });
    expect(mine.kpis.map((k) => k.id)).toContain('average_order_value');
    const staff = await value(() =>
      benchmarks.load(eventOf({ path: '/benchmarks', locals: adminLocals })),
    );
    expect(staff).toMatchObject({ role: 'admin', memberId: null });
    const anon = await outcome(() =>
      benchmarks.load(eventOf({ path: '/benchmarks', locals: localsOf(null, null) })),
    );
    expect(anon).toMatchObject({ kind: 'redirect', status: 303 });
  });

  it("login with the node's link: a member session cookie, then its own page", async () => {
    const anon = localsOf(null, null);
    const { token } = await nodes[1]!.client.trpc.node.dashboardLogin.mutate();
    const cookies = cookieJar();
    const r = await outcome(() =>
      memberLogin.load(eventOf({ path: `/login/member?token=${token}`, locals: anon, cookies })),
    );
    expect(r).toEqual({
      kind: 'redirect',
      status: 303,
      location: `/members/${encodeURIComponent(nodes[1]!.memberId)}`,
    });
    expect(cookies.jar.get(SESSION_COOKIE)).toMatch(/^cfm_/);
    // The link works once.
    const again = await value(() =>
      memberLogin.load(eventOf({ path: `/login/member?token=${token}`, locals: anon })),
    );
    expect(again.linkError).toMatch(/unknown, used or expired/);
    expect(
      (
        await value(() =>
          memberLogin.load(eventOf({ path: '/login/member?token=nope', locals: anon })),
        )
      ).linkError,
    ).toMatch(/does not hold/);
    expect(
      await failure(() =>
        memberLogin.actions.default(
          eventOf({ path: '/login/member', locals: anon, form: { token: 'cfs_abc' } }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'token' });
    expect(
      await failure(() =>
        memberLogin.actions.default(
          eventOf({ path: '/login/member', locals: anon, form: { token } }),
        ),
      ),
    ).toMatchObject({
      status: 400,
      field: 'token',
      message: 'the login link is unknown, used or expired',
    });
  });

  it("a member sees its own page; another member's page is 403; staff pages are 403", async () => {
    const own = await value(() =>
      memberPage.load(
        eventOf({ path: '/members/x', locals: me.locals, params: { id: nodes[0]!.memberId } }),
      ),
    );
    expect(own).toMatchObject({
      self: true,
      member: { id: nodes[0]!.memberId, status: 'approved' },
    });
    const other = await outcome(() =>
      memberPage.load(
        eventOf({ path: '/members/x', locals: me.locals, params: { id: nodes[1]!.memberId } }),
      ),
    );
    expect(other).toMatchObject({ kind: 'error', status: 403 });
    expect(
      await outcome(() => members.load(eventOf({ path: '/members', locals: me.locals }))),
    ).toMatchObject({
      kind: 'redirect',
      location: `/members/${encodeURIComponent(nodes[0]!.memberId)}`,
    });
    expect(
      await outcome(() => settings.load(eventOf({ path: '/settings', locals: me.locals }))),
    ).toMatchObject({ kind: 'error', status: 403 });
    expect(
      await outcome(() =>
        members.actions.invite(
          eventOf({ path: '/members', locals: me.locals, form: { expiresInHours: '1' } }),
        ),
      ),
    ).toMatchObject({ kind: 'error', status: 403 });
    expect(
      await outcome(() =>
        roundsPage.actions.start(
          eventOf({
            path: '/rounds',
            locals: me.locals,
            form: { modelId: 'opaque', kind: 'train' },
          }),
        ),
      ),
    ).toMatchObject({ kind: 'error', status: 403 });
    // Consent is the member's own: an admin cannot open the consent page.
    expect(
      await outcome(() => consent.load(eventOf({ path: '/consent', locals: adminLocals }))),
    ).toMatchObject({ kind: 'error', status: 403 });
  });

  it('consent: each bad field named; a saved change is respected by the next round and reaches the node', async () => {
    const page = await value(() => consent.load(eventOf({ path: '/consent', locals: me.locals })));
    expect(page.models.map((m) => m.id)).toEqual(['opaque', 'other']);
    expect(page.kpis.length).toBeGreaterThan(0);
    const form = {
      scope: 'chosen',
      models: ['other'],
      kpis: ['fraud_rate'],
      'cap.opaque': '',
      'cap.other': '',
      periodDays: '',
    };
    const bad: [string, Record<string, string | string[]>][] = [
      ['scope', { scope: 'some' }],
      ['models', { models: ['nope'] }],
      ['kpis', { kpis: ['secret_sauce'] }],
      ['cap.opaque', { 'cap.opaque': '-1' }],
      ['cap.opaque', { 'cap.opaque': '51' }],
      ['periodDays', { periodDays: '1.5' }],
    ];
    for (const [field, change] of bad) {
      const f = await failure(() =>
        consent.actions.default(
          eventOf({ path: '/consent', locals: me.locals, form: { ...form, ...change } }),
        ),
      );
      expect(f, field).toMatchObject({ status: 400, field });
    }
    expect(
      await value(() =>
        consent.actions.default(
          eventOf({
            path: '/consent',
            locals: me.locals,
            form: { ...form, 'cap.other': '3', periodDays: '30' },
          }),
        ),
      ),
    ).toEqual({ saved: true });
    const saved = await value(() => consent.load(eventOf({ path: '/consent', locals: me.locals })));
    expect(saved.consent).toEqual({
      models: ['other'],
      kpis: ['fraud_rate'],
      epsilonCaps: { other: 3 },
      epsilonPeriodDays: 30,
    });
    expect(saved.source).toBe('dashboard');

    // The coordinator's next round of "opaque" leaves this member out...
    const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'opaque' });
    expect(cohort).toBe(2);
    const cohortIds = (await admin.rounds.get.query({ roundId })).participants.map(
      (p) => p.memberId,
    );
    expect(cohortIds).not.toContain(nodes[0]!.memberId);
    await Promise.all(
      nodes
        .slice(1)
        .map((n) => takePart(n, roundId, () => ({ vector: [0.1, 0, 0, 0], weight: 1 }))),
    );
    expect((await waitForRound(admin, roundId)).status).toBe('done');
    // ...and its node is told to adopt the change on its next poll.
    expect((await nodes[0]!.client.tasks()).consentEditAt).not.toBeNull();

    // The member does not see the round it was not in, nor anyone else's ledger rows.
    expect(
      await outcome(() =>
        roundPage.load(eventOf({ path: '/rounds/x', locals: me.locals, params: { id: roundId } })),
      ),
    ).toMatchObject({ kind: 'error', status: 403 });
    const theirs = await memberSession(running.url, nodes[1]!);
    const seen = await value(() =>
      roundPage.load(
        eventOf({ path: '/rounds/x', locals: theirs.locals, params: { id: roundId } }),
      ),
    );
    expect(seen.participants.filter((p) => p.memberId !== null).map((p) => p.memberId)).toEqual([
      nodes[1]!.memberId,
    ]);
    const mine = await value(() =>
      roundsPage.load(eventOf({ path: '/rounds', locals: me.locals })),
    );
    expect(mine.rounds).toEqual([]);
    const ledger = await value(() =>
      privacy.load(eventOf({ path: '/privacy', locals: theirs.locals })),
    );
    expect(ledger.ledger.length).toBeGreaterThan(0);
    expect(new Set(ledger.ledger.map((r) => r.memberId))).toEqual(new Set([nodes[1]!.memberId]));
    const o = await value(() => overview.load(eventOf({ path: '/', locals: theirs.locals })));
    expect(o.privacy.find((p) => p.modelId === 'opaque')!.spent).toBeGreaterThan(0);
    expect(
      (await value(() => privacy.load(eventOf({ path: '/privacy', locals: me.locals })))).ledger,
    ).toEqual([]);
  });
});

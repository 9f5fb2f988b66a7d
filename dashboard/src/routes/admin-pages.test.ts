import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetNode } from '@coopfl/coordinator/testing/fleet';
import { takePart, waitForRound } from '@coopfl/coordinator/testing/fleet';
import type { AdminClient } from '@coopfl/coordinator/client';
import {
  ADMIN,
  adminSession,
  cookieJar,
  eventOf,
  localsOf,
  failure,
  outcome,
  startCooperative,
  value,
} from '../testing/harness';
import { SESSION_COOKIE } from '$lib/server/session';
import * as login from './login/+page.server';
import * as overview from './+page.server';
import * as members from './members/+page.server';
import * as memberPage from './members/[id]/+page.server';
import * as roundsPage from './rounds/+page.server';
import * as roundPage from './rounds/[id]/+page.server';
import * as models from './models/+page.server';
import * as privacy from './privacy/+page.server';
import * as settings from './settings/+page.server';
import * as logout from './logout/+page.server';
import * as benchmarks from './benchmarks/+page.server';

describe('admin pages (server side, real coordinator)', () => {
  let running: Awaited<ReturnType<typeof startCooperative>>['running'];
  let admin: AdminClient;
  let nodes: FleetNode[];
  let locals: App.Locals;

  beforeAll(async () => {
    ({ running, admin, nodes } = await startCooperative(3));
    await admin.models.create.mutate({ id: 'opaque', kind: 'custom', dim: 4 });
    ({ locals } = await adminSession(running.url));
  }, 60_000);
  afterAll(() => running?.close());

  it('login: the field at fault, then a session cookie and a redirect', async () => {
    const anon = localsOf(null, null);
    expect(
      await failure(() =>
        login.actions.default(eventOf({ path: '/login', locals: anon, form: { password: 'x' } })),
      ),
    ).toMatchObject({ status: 400, field: 'username' });
    expect(
      await failure(() =>
        login.actions.default(
          eventOf({ path: '/login', locals: anon, form: { username: 'root' } }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'password' });
    expect(
      await failure(() =>
        login.actions.default(
          eventOf({
            path: '/login',
            locals: anon,
            form: { username: 'root', password: 'wrong password' },
          }),
        ),
      ),
    ).toMatchObject({
      status: 400,
      field: 'password',
      message: 'unknown username or wrong password',
    });
    const cookies = cookieJar();
    const ok = await outcome(() =>
      login.actions.default(
        eventOf({ path: '/login?next=/rounds', locals: anon, cookies, form: ADMIN }),
      ),
    );
    expect(ok).toEqual({ kind: 'redirect', status: 303, location: '/rounds' });
    expect(cookies.jar.get(SESSION_COOKIE)).toMatch(/^cfs_/);
    // An open redirect is not followed.
    const evil = await outcome(() =>
      login.actions.default(
        eventOf({ path: '/login?next=//evil.example', locals: anon, form: ADMIN }),
      ),
    );
    expect(evil).toMatchObject({ location: '/' });
    // Logged in already: the login page sends you on; logged out: every page sends you to login.
    expect(await outcome(() => login.load(eventOf({ path: '/login', locals })))).toMatchObject({
      kind: 'redirect',
      location: '/',
    });
    expect(await outcome(() => overview.load(eventOf({ path: '/', locals: anon })))).toMatchObject({
      kind: 'redirect',
      location: '/login?next=%2F',
    });
    const out = cookieJar({ [SESSION_COOKIE]: 'x' });
    expect(
      await outcome(() =>
        logout.actions.default(eventOf({ path: '/logout', locals, cookies: out, form: {} })),
      ),
    ).toMatchObject({ location: '/login' });
    expect(out.jar.has(SESSION_COOKIE)).toBe(false);
  });

  it('members: invite (copyable), approve, revoke; bad input names the field', async () => {
    expect(
      await failure(() =>
        members.actions.invite(
          eventOf({ path: '/members', locals, form: { expiresInHours: '-1' } }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'expiresInHours' });
    expect(
      await failure(() =>
        members.actions.invite(
          eventOf({ path: '/members', locals, form: { expiresInHours: 'soon' } }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'expiresInHours', message: 'hours must be a number' });
    expect(
      await failure(() =>
        members.actions.invite(
          eventOf({
            path: '/members',
            locals,
            form: { expiresInHours: '1', note: 'n'.repeat(201) },
          }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'note' });
    const inv = await value(() =>
      members.actions.invite(
        eventOf({ path: '/members', locals, form: { expiresInHours: '24', note: 'shop 4' } }),
      ),
    );
    expect((inv as { invite: string }).invite).toMatch(/^cfi_.+\.[0-9a-f]{32}$/);

    const list = await value(() => members.load(eventOf({ path: '/members', locals })));
    expect(list.members).toHaveLength(3);
    expect(Object.keys(list.members[0]!).sort()).toEqual(['createdAt', 'id', 'name', 'status']);

    expect(
      await failure(() => members.actions.approve(eventOf({ path: '/members', locals, form: {} }))),
    ).toMatchObject({ status: 400, field: 'memberId' });
    const unknown = await outcome(() =>
      members.actions.approve(eventOf({ path: '/members', locals, form: { memberId: 'nobody' } })),
    );
    expect(unknown).toMatchObject({ kind: 'error', status: 404 });
    const revoked = await value(() =>
      members.actions.revoke(
        eventOf({ path: '/members', locals, form: { memberId: nodes[2]!.memberId } }),
      ),
    );
    expect(revoked).toMatchObject({ changed: { status: 'revoked' } });
    const page = await value(() =>
      memberPage.load(eventOf({ path: '/members/x', locals, params: { id: nodes[2]!.memberId } })),
    );
    expect(page.member).toMatchObject({ status: 'revoked' });
    const approved = await value(() =>
      members.actions.approve(
        eventOf({ path: '/members', locals, form: { memberId: nodes[2]!.memberId } }),
      ),
    );
    expect(approved).toMatchObject({ changed: { status: 'approved' } });
    expect(
      await outcome(() =>
        memberPage.load(eventOf({ path: '/members/x', locals, params: { id: 'nobody' } })),
      ),
    ).toMatchObject({ kind: 'error', status: 404 });
  });

  it('rounds: start (fields named), live detail, list; models: quality over rounds', async () => {
    expect(
      await failure(() =>
        roundsPage.actions.start(eventOf({ path: '/rounds', locals, form: { kind: 'train' } })),
      ),
    ).toMatchObject({ status: 400, field: 'modelId' });
    expect(
      await failure(() =>
        roundsPage.actions.start(
          eventOf({ path: '/rounds', locals, form: { modelId: 'opaque', kind: 'bake' } }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'kind' });
    expect(
      await outcome(() =>
        roundsPage.actions.start(
          eventOf({ path: '/rounds', locals, form: { modelId: 'missing', kind: 'train' } }),
        ),
      ),
    ).toMatchObject({ kind: 'error', status: 404 });

    const started = await outcome(() =>
      roundsPage.actions.start(
        eventOf({ path: '/rounds', locals, form: { modelId: 'opaque', kind: 'train' } }),
      ),
    );
    if (started.kind !== 'redirect') throw new Error('no redirect');
    const roundId = decodeURIComponent(started.location.replace('/rounds/', ''));
    const live = await value(() =>
      roundPage.load(eventOf({ path: started.location, locals, params: { id: roundId } })),
    );
    expect(live.round).toMatchObject({ outcome: 'running', cohort: 3 });
    await Promise.all(
      nodes.map((n) => takePart(n, roundId, () => ({ vector: [0.1, 0, 0, 0], weight: 1 }))),
    );
    await waitForRound(admin, roundId);
    const done = await value(() =>
      roundPage.load(eventOf({ path: started.location, locals, params: { id: roundId } })),
    );
    expect(done.round).toMatchObject({ outcome: 'released', resultVersion: 1, dropouts: 0 });
    expect(done.timeline.every((s) => s.state === 'closed')).toBe(true);
    expect(done.round.bytes).toBeGreaterThan(0);
    expect(
      await outcome(() =>
        roundPage.load(eventOf({ path: '/rounds/none', locals, params: { id: 'none' } })),
      ),
    ).toMatchObject({ kind: 'error', status: 404 });

    for (const loss of [0.9, 0.6]) {
      const ev = await outcome(() =>
        roundsPage.actions.start(
          eventOf({ path: '/rounds', locals, form: { modelId: 'opaque', kind: 'eval' } }),
        ),
      );
      if (ev.kind !== 'redirect') throw new Error('no redirect');
      const id = decodeURIComponent(ev.location.replace('/rounds/', ''));
      await Promise.all(nodes.map((n) => takePart(n, id, () => ({ vector: [loss], weight: 1 }))));
      await waitForRound(admin, id);
    }
    const list = await value(() => roundsPage.load(eventOf({ path: '/rounds', locals })));
    expect(list.rounds.map((r) => `${r.kind}:${r.status}`)).toEqual([
      'eval:done',
      'eval:done',
      'train:done',
    ]);

    const m = await value(() => models.load(eventOf({ path: '/models', locals })));
    expect(m.selected).toBe('opaque');
    expect(m.history?.points.map((p) => Number(p.values.loss!.toFixed(2)))).toEqual([0.9, 0.6]);
    expect(m.history?.best[0]).toMatchObject({ metric: 'loss', lowerIsBetter: true });
    expect(m.history?.versions.map((v) => v.version)).toEqual([1, 0]);

    const o = await value(() => overview.load(eventOf({ path: '/', locals })));
    expect(o.members).toEqual({ approved: 3, pending: 0, revoked: 0 });
    expect(o.models[0]).toMatchObject({ id: 'opaque', latestVersion: 1, evaluatedVersion: 1 });
    expect(o.models[0]!.quality?.loss).toBeCloseTo(0.6, 2);
  });

  it('settings: each field validated and named; saved values come back', async () => {
    const base = {
      modelId: 'opaque',
      mode: 'central',
      epsilonBudget: '6',
      noiseMultiplier: '1.1',
      clipNorm: '1',
      minClients: '2',
      thresholdFraction: '',
      samplingRate: '1',
      stageTimeoutSeconds: '30',
    };
    const bad: [string, string][] = [
      ['mode', 'loud'],
      ['epsilonBudget', '0'],
      ['noiseMultiplier', '-1'],
      ['clipNorm', 'x'],
      ['minClients', '1'],
      ['thresholdFraction', '0.3'],
      ['samplingRate', '2'],
      ['stageTimeoutSeconds', '0'],
    ];
    for (const [field, v] of bad) {
      const f = await failure(() =>
        settings.actions.model(
          eventOf({ path: '/settings', locals, form: { ...base, [field]: v } }),
        ),
      );
      expect(f, field).toMatchObject({ status: 400, field });
    }
    expect(
      await value(() => settings.actions.model(eventOf({ path: '/settings', locals, form: base }))),
    ).toEqual({ saved: 'opaque' });
    expect(
      await failure(() =>
        settings.actions.schedule(
          eventOf({ path: '/settings', locals, form: { everyMinutes: '-5' } }),
        ),
      ),
    ).toMatchObject({ status: 400, field: 'everyMinutes' });
    expect(
      await value(() =>
        settings.actions.schedule(
          eventOf({ path: '/settings', locals, form: { everyMinutes: '30', models: ['opaque'] } }),
        ),
      ),
    ).toEqual({ saved: 'schedule' });
    const s = await value(() => settings.load(eventOf({ path: '/settings', locals })));
    expect(s.schedule).toEqual({ everyMinutes: 30, models: ['opaque'] });
    expect(s.models[0]).toMatchObject({
      dp: { mode: 'central', epsilonBudget: 6, noiseMultiplier: 1.1 },
      stageTimeoutMs: 30_000,
    });

    // Benchmark settings: each field named; saved values come back (δ kept as it was).
    const bench = {
      minContributors: '7',
      bins: '12',
      confidence: '0.9',
      dpMode: 'distributed',
      epsilonPerRun: '3',
      budget: '30',
      timeoutSeconds: '45',
      monthlyOnDay: '3',
    };
    for (const [field, v] of [
      ['minContributors', '1'],
      ['bins', '65'],
      ['confidence', '1'],
      ['dpMode', 'loud'],
      ['epsilonPerRun', '0'],
      ['budget', 'x'],
      ['timeoutSeconds', '0'],
      ['monthlyOnDay', '31'],
    ] as const) {
      const f = await failure(() =>
        settings.actions.benchmarks(
          eventOf({ path: '/settings', locals, form: { ...bench, [field]: v } }),
        ),
      );
      expect(f, field).toMatchObject({ status: 400, field });
    }
    expect(
      await value(() =>
        settings.actions.benchmarks(eventOf({ path: '/settings', locals, form: bench })),
      ),
    ).toEqual({ saved: 'benchmark settings' });
    expect(
      (await value(() => settings.load(eventOf({ path: '/settings', locals })))).benchmarks,
    ).toEqual({
      minContributors: 7,
      bins: 12,
      confidence: 0.9,
      dp: { mode: 'distributed', epsilonPerRun: 3, delta: 1e-5, epsilonBudget: 30 },
      stageTimeoutMs: 45_000,
      monthlyOnDay: 3,
    });

    // Adding a model: fields named; a duplicate id is refused by the coordinator, naming the id.
    const create = {
      id: 'fraud-2',
      kind: 'fraud',
      mode: 'central',
      epsilonBudget: '4',
      noiseMultiplier: '1',
    };
    for (const [field, v] of [
      ['id', 'Bad Id!'],
      ['kind', 'weather'],
      ['mode', 'loud'],
      ['epsilonBudget', '-2'],
      ['noiseMultiplier', 'much'],
    ] as const) {
      const f = await failure(() =>
        settings.actions.create(
          eventOf({ path: '/settings', locals, form: { ...create, [field]: v } }),
        ),
      );
      expect(f, field).toMatchObject({ status: 400, field });
    }
    expect(
      await value(() =>
        settings.actions.create(eventOf({ path: '/settings', locals, form: create })),
      ),
    ).toEqual({ saved: 'model fraud-2' });
    expect(
      await failure(() =>
        settings.actions.create(eventOf({ path: '/settings', locals, form: create })),
      ),
    ).toMatchObject({ status: 400, field: 'id', message: 'model "fraud-2" already exists' });
    const after = await value(() => settings.load(eventOf({ path: '/settings', locals })));
    expect(after.models.find((m) => m.id === 'fraud-2')).toMatchObject({
      kind: 'fraud',
      dp: { mode: 'central', epsilonBudget: 4 },
    });

    const p = await value(() => privacy.load(eventOf({ path: '/privacy', locals })));
    expect(p.summary.find((x) => x.modelId === 'opaque')).toMatchObject({
      budget: 6,
      dpMode: 'central',
    });
    expect(Array.isArray(p.ledger)).toBe(true);
  });

  it("benchmarks: the admin runs one from the page (fields named, the coordinator's refusal shown), then watches its round", async () => {
    const run = (form: Record<string, string | string[]>) =>
      benchmarks.actions.run(eventOf({ path: '/benchmarks', locals, form }));
    expect(await failure(() => run({ period: '2024-13', kpis: ['orders'] }))).toMatchObject({
      status: 400,
      field: 'period',
    });
    expect(await failure(() => run({ period: '2024-03' }))).toMatchObject({
      status: 400,
      field: 'kpis',
      message: 'choose at least one KPI',
    });
    expect(
      await failure(() => run({ period: '2024-03', kpis: ['orders'], epsilon: '-1' })),
    ).toMatchObject({ status: 400, field: 'epsilon' });
    // No member consents to a KPI yet: the coordinator refuses, and the page says why.
    const refused = await failure(() => run({ period: '2024-03', kpis: ['orders'] }));
    expect(refused).toMatchObject({ status: 400, field: 'period' });
    expect(refused.message).toMatch(/could contribute/);

    for (const n of nodes) {
      await n.client.trpc.node.setConsent.mutate({ kpis: ['orders'] });
    }
    await admin.benchmarks.setSettings.mutate({ minContributors: 2 });
    const page = await value(() => benchmarks.load(eventOf({ path: '/benchmarks', locals })));
    expect(page.settings).toMatchObject({ minContributors: 2 });
    const started = await outcome(() =>
      run({ period: '2024-03', kpis: ['orders'], sizeBand: 'small', dp: 'off' }),
    );
    if (started.kind !== 'redirect') throw new Error(`no redirect: ${JSON.stringify(started)}`);
    const roundId = decodeURIComponent(started.location.replace('/rounds/', ''));
    const r = await admin.rounds.get.query({ roundId });
    expect(r).toMatchObject({ kind: 'benchmark' });
    expect(r.participants).toHaveLength(nodes.length);
  });
});

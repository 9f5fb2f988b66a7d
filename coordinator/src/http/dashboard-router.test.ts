import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { DECLINE_STAGE_CODE, STAGE_CODE_OFFSET, sealClientMessage } from '@coopfl/protocol/secagg';
import type { AdminClient } from '../client';
import { adminClient, secAggConfigOf } from '../client';
import { loadConfig } from '../config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';
import { scheduleTick } from '../services/schedule';
import type { FleetNode } from '../testing/fleet';
import { bootstrapFleet, takePart, waitForRound } from '../testing/fleet';

beforeAll(cryptoReady);

describe('dashboard views', () => {
  let running: RunningCoordinator;
  let admin: AdminClient;
  let nodes: FleetNode[];
  const memberSession = async (n: FleetNode) => {
    const { token } = await n.client.trpc.node.dashboardLogin.mutate();
    const s = await adminClient(running.url).auth.memberLogin.mutate({ token });
    return { client: adminClient(running.url, s.token), login: token, memberId: s.memberId };
  };

  beforeAll(async () => {
    running = await startCoordinator(
      loadConfig({ db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
    );
    ({ admin, nodes } = await bootstrapFleet(running, 3));
    await admin.models.create.mutate({ id: 'opaque', kind: 'custom', dim: 4 });
  }, 60_000);
  afterAll(() => running?.close());

  it('a node mints a one-time login token that opens a member session', async () => {
    const m = await memberSession(nodes[0]!);
    expect(m.memberId).toBe(nodes[0]!.memberId);
    expect(await m.client.auth.me.query()).toMatchObject({ id: m.memberId, role: 'member' });
    // One-time: a second exchange is refused, as is a made-up token.
    await expect(
      adminClient(running.url).auth.memberLogin.mutate({ token: m.login }),
    ).rejects.toThrow(/unknown, used or expired/);
    await expect(
      adminClient(running.url).auth.memberLogin.mutate({ token: 'cfl_nope' }),
    ).rejects.toThrow(/token: not a login token/);
  });

  it('a member sees its own page and not another shop’s', async () => {
    const m = await memberSession(nodes[0]!);
    const own = await m.client.dashboard.member.query({ memberId: m.memberId });
    expect(own).toMatchObject({ id: m.memberId, status: 'approved' });
    await expect(
      m.client.dashboard.member.query({ memberId: nodes[1]!.memberId }),
    ).rejects.toMatchObject({ data: { httpStatus: 403 } });
    await expect(m.client.dashboard.settings.query()).rejects.toMatchObject({
      data: { httpStatus: 403 },
    });
    expect((await admin.dashboard.member.query({ memberId: nodes[1]!.memberId })).id).toBe(
      nodes[1]!.memberId,
    );
  });

  it('a dashboard consent edit excludes the member from the next round and reaches its node', async () => {
    const m = await memberSession(nodes[2]!);
    await m.client.dashboard.setConsent.mutate({ models: ['something-else'], kpis: [] });
    const polled = await nodes[2]!.client.tasks();
    expect(polled.consentEditAt).not.toBeNull();
    expect(await nodes[2]!.client.trpc.node.consentEdit.query()).toMatchObject({
      consent: { models: ['something-else'] },
    });
    const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'opaque' });
    expect(cohort).toBe(2);
    await Promise.all(
      nodes
        .slice(0, 2)
        .map((n) => takePart(n, roundId, () => ({ vector: [0.1, 0, 0, 0], weight: 1 }))),
    );
    expect((await waitForRound(admin, roundId)).status).toBe('done');
    // The node syncing (its adopted copy) back clears the dashboard mark.
    await nodes[2]!.client.trpc.node.setConsent.mutate({ models: ['something-else'] });
    expect((await nodes[2]!.client.tasks()).consentEditAt).toBeNull();
    await expect(admin.dashboard.setConsent.mutate({ kpis: [] })).rejects.toMatchObject({
      data: { httpStatus: 403 },
    });

    const detail = await admin.dashboard.round.query({ roundId });
    expect(detail).toMatchObject({ status: 'done', outcome: 'released', cohort: 2, dropouts: 0 });
    expect(detail.timeline.map((s) => [s.stage, s.state, s.messages])).toEqual([
      ['advertise', 'closed', 2],
      ['shares', 'closed', 2],
      ['masked', 'closed', 2],
      ['unmask', 'closed', 2],
    ]);
    // Masked inputs are counted at their vector size (4 words each, at least).
    expect(detail.timeline[2]!.bytes).toBeGreaterThanOrEqual(2 * 16);
    expect(detail.bytes).toBeGreaterThan(detail.timeline[2]!.bytes);
    expect(detail.participants.every((p) => p.memberId !== null)).toBe(true);

    // A member in the round sees itself and anonymous others; one outside it is refused.
    const inRound = await memberSession(nodes[0]!);
    const seen = await inRound.client.dashboard.round.query({ roundId });
    expect(seen.participants.filter((p) => p.memberId !== null)).toEqual([
      expect.objectContaining({ memberId: nodes[0]!.memberId }),
    ]);
    await expect(m.client.dashboard.round.query({ roundId })).rejects.toMatchObject({
      data: { httpStatus: 403 },
    });
  });

  it('a member dropping out is counted in the stage it missed', async () => {
    await admin.dashboard.updateModel.mutate({
      modelId: 'opaque',
      settings: { stageTimeoutMs: 500 },
    });
    await nodes[2]!.client.trpc.node.setConsent.mutate({});
    const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'opaque' });
    expect(cohort).toBe(3);
    // Only two of the cohort take part: the third never advertises its keys.
    await Promise.all(
      nodes
        .slice(0, 2)
        .map((n) => takePart(n, roundId, () => ({ vector: [0.2, 0, 0, 0], weight: 1 }))),
    );
    await waitForRound(admin, roundId);
    const d = await admin.dashboard.round.query({ roundId });
    expect(d).toMatchObject({ status: 'done', cohort: 3, dropouts: 1 });
    expect(d.timeline[0]).toMatchObject({ stage: 'advertise', messages: 2, deadline: true });
    expect(d.participants.map((p) => p.droppedIn)).toEqual([null, null, 'advertise']);
  });

  it('a member declining is shown as declined, not as a dropout, and nobody waits for it', async () => {
    await admin.dashboard.updateModel.mutate({
      modelId: 'opaque',
      settings: { stageTimeoutMs: 600_000 },
    });
    const { roundId, cohort } = await admin.rounds.start.mutate({ modelId: 'opaque' });
    expect(cohort).toBe(3);
    const decliner = nodes[2]!;
    const task = (await decliner.client.tasks()).tasks.find((t) => t.round.roundId === roundId)!;
    const decline = sealClientMessage(
      { stage: 'decline', roundId, from: task.clientIndex, reason: 'no-data' },
      decliner.identity.privateKey,
      secAggConfigOf(task.round).digest,
    );
    expect(decline[STAGE_CODE_OFFSET]).toBe(DECLINE_STAGE_CODE);
    await decliner.client.channel(roundId, { pollMs: 1_000 }).send(task.clientIndex, decline);
    // A 10-minute stage timeout: the round ends within the test only because of the decline.
    await Promise.all(
      nodes
        .slice(0, 2)
        .map((n) => takePart(n, roundId, () => ({ vector: [0.1, 0, 0, 0], weight: 1 }))),
    );
    expect((await waitForRound(admin, roundId, 30_000)).status).toBe('done');
    const d = await admin.dashboard.round.query({ roundId });
    expect(d).toMatchObject({ cohort: 3, dropouts: 0, declines: 1 });
    expect(d.timeline[0]).toMatchObject({ stage: 'advertise', messages: 2, deadline: false });
    expect(d.participants.map((p) => [p.declined, p.droppedIn])).toEqual([
      [false, null],
      [false, null],
      [true, null],
    ]);
    // The later tests expect absent members to be dropped quickly again.
    await admin.dashboard.updateModel.mutate({
      modelId: 'opaque',
      settings: { stageTimeoutMs: 500 },
    });
  });

  it('model history: evaluation averages over rounds with baselines, best vs latest', async () => {
    for (const [v, b] of [
      [0.5, 0.9],
      [0.3, 0.9],
      [0.4, 0.8],
    ] as const) {
      const ev = await admin.rounds.start.mutate({
        modelId: 'opaque',
        kind: 'eval',
        metrics: ['wape', 'wape@seasonal_naive'],
      });
      await Promise.all(
        nodes
          .slice(0, 2)
          .map((n) => takePart(n, ev.roundId, () => ({ vector: [v, b], weight: 1 }))),
      );
      expect((await waitForRound(admin, ev.roundId)).status).toBe('done');
    }
    const h = await admin.dashboard.modelHistory.query({ modelId: 'opaque' });
    expect(h.metrics).toEqual(['wape']);
    expect(h.points.map((p) => Number(p.values.wape!.toFixed(2)))).toEqual([0.5, 0.3, 0.4]);
    expect(h.baselines.wape?.seasonal_naive).toBeCloseTo(0.8, 2);
    expect(h.best[0]).toMatchObject({ metric: 'wape', lowerIsBetter: true });
    expect(h.best[0]!.best!.value).toBeCloseTo(0.3, 2);
    expect(h.best[0]!.latest!.value).toBeCloseTo(0.4, 2);
    const o = await admin.dashboard.overview.query();
    expect(o.members).toEqual({ approved: 3, pending: 0, revoked: 0 });
    expect(o.models[0]!.quality?.wape).toBeCloseTo(0.4, 2);
  });

  it('settings: validated model changes and a schedule that starts due rounds', async () => {
    await expect(
      admin.dashboard.updateModel.mutate({
        modelId: 'opaque',
        settings: { secagg: { thresholdFraction: 0.4 } },
      }),
    ).rejects.toThrow(/thresholdFraction/);
    const s = await admin.dashboard.updateModel.mutate({
      modelId: 'opaque',
      settings: { dp: { mode: 'central', epsilonBudget: 5, noiseMultiplier: 1 } },
    });
    expect(s.dp).toMatchObject({ mode: 'central', epsilonBudget: 5, noiseMultiplier: 1 });
    await admin.dashboard.setSchedule.mutate({ everyMinutes: 1, models: ['opaque'] });
    expect((await admin.dashboard.settings.query()).schedule).toEqual({
      everyMinutes: 1,
      models: ['opaque'],
    });
    const start = (i: Parameters<typeof running.rounds.start>[0]) => running.rounds.start(i);
    // The last training round is seconds old: not due yet; a minute later it is.
    expect(await scheduleTick(running.ctx, start)).toEqual([]);
    const later = { ...running.ctx, now: () => new Date(Date.now() + 61_000) };
    expect(await scheduleTick(later, start)).toEqual(['opaque:train']);
    // A round of the model is in progress: the next tick does not double it.
    expect(await scheduleTick(later, start)).toEqual([]);
  });
});

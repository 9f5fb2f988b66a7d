import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '$lib/server/session';
import { handle } from './hooks.server';
import * as layout from './routes/+layout.server';
import * as logout from './routes/logout/+page.server';
import {
  adminSession,
  cookieJar,
  eventOf,
  localsOf,
  memberSession,
  outcome,
  startCooperative,
  value,
} from './testing/harness';

describe('hooks and layout (server side, real coordinator)', () => {
  let coop: Awaited<ReturnType<typeof startCooperative>>;
  beforeAll(async () => {
    coop = await startCooperative(1);
  }, 60_000);
  afterAll(() => coop?.running.close());

  const run = async (cookies: ReturnType<typeof cookieJar>) => {
    const event = { cookies, locals: localsOf(null, null) };
    const response = await handle({
      event: event as never,
      resolve: () => Promise.resolve(new Response('ok')),
    });
    return { locals: event.locals, response };
  };

  it('sets locals.user from the session cookie; an unknown token is dropped', async () => {
    const admin = await adminSession(coop.running.url);
    const a = await run(cookieJar({ [SESSION_COOKIE]: admin.token }));
    expect(a.locals.user).toMatchObject({ kind: 'admin', role: 'admin' });
    expect(a.locals.token).toBe(admin.token);
    expect(a.response.headers.get('cache-control')).toBe('no-store');

    const member = await memberSession(coop.running.url, coop.nodes[0]!);
    const m = await run(cookieJar(member.cookie));
    expect(m.locals.user).toEqual({ id: coop.nodes[0]!.memberId, kind: 'member', role: 'member' });

    const jar = cookieJar({ [SESSION_COOKIE]: 'cfs_not-a-session' });
    const bad = await run(jar);
    expect(bad.locals).toEqual({ user: null, token: null });
    expect(jar.jar.has(SESSION_COOKIE)).toBe(false);
    expect((await run(cookieJar())).locals.user).toBeNull();
  });

  it('the layout gives the view the role and id only, never the token', async () => {
    const admin = await adminSession(coop.running.url);
    const data = await value(() => layout.load(eventOf({ path: '/', locals: admin.locals })));
    expect(data).toEqual({ user: { id: admin.locals.user!.id, role: 'admin' } });
    expect(
      await value(() => layout.load(eventOf({ path: '/', locals: localsOf(null, null) }))),
    ).toEqual({
      user: null,
    });
    expect(await outcome(() => logout.load())).toEqual({
      kind: 'redirect',
      status: 303,
      location: '/',
    });
  });
});

import type { Cookies } from '@sveltejs/kit';
import { isHttpError, isRedirect } from '@sveltejs/kit';
import type { RunningCoordinator } from '@coopfl/coordinator';
import { createAdmin, loadConfig, startCoordinator } from '@coopfl/coordinator';
import type { FleetNode } from '@coopfl/coordinator/testing/fleet';
import { bootstrapFleet } from '@coopfl/coordinator/testing/fleet';
import { adminClient } from '@coopfl/coordinator/client';
import type { SessionUser } from '$lib/server/session';
import { SESSION_COOKIE } from '$lib/server/session';

export const ADMIN = { username: 'root', password: 'correct horse battery' };

/**
 * A real coordinator in this process (embedded database in memory) with an admin and `members`
 * joined, approved protocol-level member nodes; the dashboard's server code is pointed at it.
 */
export async function startCooperative(members: number) {
  const running: RunningCoordinator = await startCoordinator(
    loadConfig({ db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent' }, {}),
  );
  process.env.COOPFL_COORDINATOR_URL = running.url;
  await createAdmin(running.ctx, ADMIN);
  const { admin, nodes } = await bootstrapFleet(running, members);
  return { running, admin, nodes };
}

/** An in-memory cookie jar with SvelteKit's `Cookies` interface. */
export function cookieJar(
  initial: Record<string, string> = {},
): Cookies & { jar: Map<string, string> } {
  const jar = new Map(Object.entries(initial));
  return {
    jar,
    get: (name) => jar.get(name),
    getAll: () => [...jar].map(([name, value]) => ({ name, value })),
    set: (name, value) => void jar.set(name, value),
    delete: (name) => void jar.delete(name),
    serialize: (name, value) => `${name}=${value}`,
  };
}

/** What `hooks.server.ts` would put in `locals` for a session token. */
export function localsOf(user: SessionUser | null, token: string | null): App.Locals {
  return { user, token };
}

/** A load or action event for `path` as a given session (only the fields our routes read). */
export function eventOf(o: {
  path: string;
  locals: App.Locals;
  params?: Record<string, string>;
  form?: Record<string, string | string[]>;
  cookies?: Cookies;
}) {
  const url = new URL(o.path, 'http://127.0.0.1');
  let request = new Request(url);
  if (o.form) {
    const body = new FormData();
    for (const [k, v] of Object.entries(o.form))
      for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    request = new Request(url, { method: 'POST', body });
  }
  // The routes read only these fields of SvelteKit's RequestEvent.
  return {
    url,
    request,
    locals: o.locals,
    params: o.params ?? {},
    cookies: o.cookies ?? cookieJar(),
  } as never;
}

/** Runs a load or action and reports how it ended: a value, a redirect, or an HTTP error. */
export async function outcome(
  run: () => unknown,
): Promise<
  | { kind: 'value'; value: unknown }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'error'; status: number; message: string }
> {
  try {
    return { kind: 'value', value: await run() };
  } catch (err) {
    if (isRedirect(err)) return { kind: 'redirect', status: err.status, location: err.location };
    if (isHttpError(err)) return { kind: 'error', status: err.status, message: err.body.message };
    throw err;
  }
}

/** The value of a load or action that must not redirect or fail. */
export async function value<T>(run: () => T | Promise<T>): Promise<Exclude<Awaited<T>, void>> {
  const o = await outcome(run);
  if (o.kind !== 'value') throw new Error(`expected a value, got ${JSON.stringify(o)}`);
  return o.value as Exclude<Awaited<T>, void>;
}

/** The `fail(status, { field, message })` an action returned. */
export async function failure(run: () => unknown) {
  const v = (await value(run)) as { status?: number; data?: { field: string; message: string } };
  return { status: v.status, field: v.data?.field, message: v.data?.message };
}

/** An admin session, as after logging in through the login page. */
export async function adminSession(url: string) {
  const s = await adminClient(url).auth.login.mutate(ADMIN);
  const me = await adminClient(url, s.token).auth.me.query();
  return { token: s.token, locals: localsOf({ id: me.id, kind: me.kind, role: me.role }, s.token) };
}

/** A member session for a node, as after opening its `coopfl-node dashboard-link`. */
export async function memberSession(url: string, node: FleetNode) {
  const { token: login } = await node.client.trpc.node.dashboardLogin.mutate();
  const s = await adminClient(url).auth.memberLogin.mutate({ token: login });
  return {
    token: s.token,
    locals: localsOf({ id: s.memberId, kind: 'member', role: 'member' }, s.token),
    cookie: { [SESSION_COOKIE]: s.token },
  };
}

import { and, eq, gt } from 'drizzle-orm';
import { hashPassword, verifyPassword } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import { admins, sessions } from '../db';
import { CoordinatorError } from '../errors';
import { audit } from './audit';
import { newToken, tokenHash } from './tokens';

/**
 * Admin accounts and sessions. Passwords are hashed with libsodium's pwhash (Argon2id, interactive
 * limits); sessions are random bearer tokens stored by hash, valid for `SESSION_HOURS`.
 */
const SESSION_HOURS = 12;
export type Role = 'admin' | 'observer' | 'member';
export interface Principal {
  kind: 'admin' | 'member';
  id: string;
  role: Role;
}

export async function createAdmin(
  ctx: CoordinatorContext,
  input: { username: string; password: string; role?: 'admin' | 'observer' },
): Promise<{ id: string; username: string }> {
  if (input.password.length < 10) {
    throw new CoordinatorError('BadRequest', 'password must be at least 10 characters');
  }
  const passwordHash = hashPassword(input.password);
  const existing = await ctx.db
    .select({ id: admins.id })
    .from(admins)
    .where(eq(admins.username, input.username));
  if (existing.length > 0)
    throw new CoordinatorError('Conflict', `admin "${input.username}" already exists`);
  const [row] = await ctx.db
    .insert(admins)
    .values({ username: input.username, passwordHash, role: input.role ?? 'admin' })
    .returning({ id: admins.id, username: admins.username });
  await audit(ctx.db, 'cli', 'admin.create', input.username);
  return row!;
}

/** Checks a password and opens a session; the same error for an unknown user and a bad password. */
export async function login(
  ctx: CoordinatorContext,
  input: { username: string; password: string },
): Promise<{ token: string; role: Role; expiresAt: Date }> {
  const [admin] = await ctx.db.select().from(admins).where(eq(admins.username, input.username));
  const ok = admin !== undefined && verifyPassword(admin.passwordHash, input.password);
  if (!admin || !ok)
    throw new CoordinatorError('Unauthenticated', 'unknown username or wrong password');
  return openSession(ctx, { kind: 'admin', id: admin.id, role: admin.role });
}

export async function openSession(
  ctx: CoordinatorContext,
  principal: Principal,
): Promise<{ token: string; role: Role; expiresAt: Date }> {
  const { token, hash } = newToken(ctx.random, principal.kind === 'admin' ? 'cfs_' : 'cfm_');
  const expiresAt = new Date(ctx.now().getTime() + SESSION_HOURS * 3600_000);
  await ctx.db.insert(sessions).values({
    tokenHash: hash,
    subjectKind: principal.kind,
    subjectId: principal.id,
    role: principal.role,
    expiresAt,
  });
  return { token, role: principal.role, expiresAt };
}

/** The principal behind a bearer token, or undefined when it is unknown or expired. */
export async function authenticate(
  ctx: CoordinatorContext,
  token: string,
): Promise<Principal | undefined> {
  const [row] = await ctx.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.tokenHash, tokenHash(token)), gt(sessions.expiresAt, ctx.now())));
  return row ? { kind: row.subjectKind, id: row.subjectId, role: row.role } : undefined;
}

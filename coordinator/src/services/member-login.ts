import { and, eq, gt, isNull } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import { memberLoginTokens, members } from '../db';
import { CoordinatorError } from '../errors';
import type { Role } from './admins';
import { openSession } from './admins';
import { audit } from './audit';
import { newToken, tokenHash } from './tokens';

/** How long a dashboard login link stays usable: long enough to click, short enough to leak little. */
export const LOGIN_TOKEN_MINUTES = 10;

/**
 * Mints a one-time dashboard login token for a member. Only the member's node can ask (a signed
 * request), so `coopfl-node dashboard-link` is how a shop owner logs in: no password to share.
 *
 * @example
 * const { token } = await mintMemberLoginToken(ctx, node.id); // "cfl_…", valid 10 minutes
 */
export async function mintMemberLoginToken(
  ctx: CoordinatorContext,
  memberId: NodeId,
): Promise<{ token: string; expiresAt: Date }> {
  const { token, hash } = newToken(ctx.random, 'cfl_');
  const expiresAt = new Date(ctx.now().getTime() + LOGIN_TOKEN_MINUTES * 60_000);
  await ctx.db.insert(memberLoginTokens).values({ tokenHash: hash, memberId, expiresAt });
  await audit(ctx.db, memberId, 'member.login-token', memberId);
  return { token, expiresAt };
}

/**
 * Exchanges a login token (once, before it expires) for a member session. Unknown, used and
 * expired tokens get the same error; a revoked member gets no session.
 *
 * @example
 * const s = await exchangeMemberLoginToken(ctx, 'cfl_…'); // { token: 'cfm_…', role: 'member' }
 */
export async function exchangeMemberLoginToken(
  ctx: CoordinatorContext,
  token: string,
): Promise<{ token: string; role: Role; expiresAt: Date; memberId: string }> {
  const [used] = await ctx.db
    .update(memberLoginTokens)
    .set({ usedAt: ctx.now() })
    .where(
      and(
        eq(memberLoginTokens.tokenHash, tokenHash(token)),
        isNull(memberLoginTokens.usedAt),
        gt(memberLoginTokens.expiresAt, ctx.now()),
      ),
    )
    .returning({ memberId: memberLoginTokens.memberId });
  if (!used)
    throw new CoordinatorError('Unauthenticated', 'the login link is unknown, used or expired');
  const [member] = await ctx.db.select().from(members).where(eq(members.id, used.memberId));
  if (!member || member.status === 'revoked')
    throw new CoordinatorError('MemberRevoked', 'this member has been revoked');
  const session = await openSession(ctx, { kind: 'member', id: member.id, role: 'member' });
  return { ...session, memberId: member.id };
}

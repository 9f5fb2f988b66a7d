import { and, eq, lt } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import { readSignedHeaders, verifyRequest } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { requestNonces } from '../db';
import { CoordinatorError } from '../errors';
import { memberWithKey } from './members';

export interface SignedRequest {
  method: string;
  path: string;
  body: Uint8Array;
  header: (name: string) => string | null | undefined;
}

/**
 * Authenticates a member node's request (DESIGN §9): a known member with an active key, a valid
 * signature, a timestamp inside the freshness window and a nonce not seen before. Nothing is
 * written here; {@link recordNonce} stores the nonce once the request has been served, so a
 * refused request leaves no row behind.
 */
export async function authenticateNode(
  ctx: CoordinatorContext,
  req: SignedRequest,
): Promise<{ member: Member; nonce: string; timestamp: number }> {
  let h: ReturnType<typeof readSignedHeaders>;
  try {
    h = readSignedHeaders(req.header);
  } catch (cause) {
    throw new CoordinatorError('Unauthenticated', (cause as Error).message.replace(/^\w+: /, ''), {
      cause,
    });
  }
  const { member, publicKey } = await memberWithKey(ctx, h.memberId);
  if (member.status === 'revoked')
    throw new CoordinatorError('MemberRevoked', `member "${member.id}" has been revoked`);
  const ok = verifyRequest(
    {
      method: req.method,
      path: req.path,
      memberId: h.memberId,
      timestamp: h.timestamp,
      nonce: h.nonce,
      body: req.body,
    },
    h.signature,
    publicKey,
  );
  if (!ok)
    throw new CoordinatorError(
      'BadSignature',
      `request signature from "${member.id}" does not verify`,
    );
  const skew = Math.abs(ctx.now().getTime() - h.timestamp);
  if (skew > ctx.config.requestMaxAgeMs) {
    throw new CoordinatorError(
      'StaleRequest',
      `request timestamp is ${Math.round(skew / 1000)} s off the coordinator's clock`,
    );
  }
  const seen = await ctx.db
    .select({ nonce: requestNonces.nonce })
    .from(requestNonces)
    .where(and(eq(requestNonces.memberId, member.id), eq(requestNonces.nonce, h.nonce)));
  if (seen.length > 0)
    throw new CoordinatorError('ReplayedRequest', 'this request (nonce) was already served');
  return { member, nonce: h.nonce, timestamp: h.timestamp };
}

/** Remembers a served request's nonce until it could no longer pass the freshness check. */
export async function recordNonce(
  ctx: CoordinatorContext,
  memberId: NodeId,
  nonce: string,
  timestamp: number,
): Promise<void> {
  const expiresAt = new Date(timestamp + 2 * ctx.config.requestMaxAgeMs);
  await ctx.db.insert(requestNonces).values({ memberId, nonce, expiresAt }).onConflictDoNothing();
}

/** Deletes nonces past their expiry (they can no longer be replayed: the timestamp is stale). */
export async function pruneNonces(ctx: CoordinatorContext): Promise<void> {
  await ctx.db.delete(requestNonces).where(lt(requestNonces.expiresAt, ctx.now()));
}

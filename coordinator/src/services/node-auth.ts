import { and, eq, lt } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import { readSignedHeaders, verifyRequest } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { requestNonces } from '../db';
import { CoordinatorError } from '../errors';
import { memberWithKey } from './members';
import type { NonceClaim } from './nonce-claims';
import { nonceClaims } from './nonce-claims';

export interface SignedRequest {
  method: string;
  path: string;
  body: Uint8Array;
  header: (name: string) => string | null | undefined;
}

/** Who sent a signed request, and its nonce: `claimed` once stored. */
export interface NodeAuth {
  readonly member: Member;
  readonly claim: NonceClaim;
  claimed: boolean;
}

/**
 * Authenticates a member node's request (DESIGN §9): a known member with an active key, a valid
 * signature, a timestamp inside the freshness window and a nonce not seen before, which it
 * claims (stores) in the same statement that confirms the member's status and key. The caller
 * releases it with {@link releaseNonce} if the request then fails, so a refused request leaves no
 * row behind.
 *
 * The member and key usually come from a cache, so a request costs one statement (the claim).
 * Only acceptance is decided on cached data, and the claim confirms it against the database; any
 * refusal (revoked, bad signature, claim refused) is decided again on a fresh read, so a change
 * made elsewhere — a rotated key, a re-approved member — is never refused on stale data.
 *
 * `claim: false` checks everything but stores nothing: the caller stores the returned claim
 * together with what the request changes ({@link strictClaimInsert}) and, if that refuses it,
 * authenticates the request again with its claim, which names the reason.
 */
export async function authenticateNode(
  ctx: CoordinatorContext,
  req: SignedRequest,
  o: { claim?: boolean } = {},
): Promise<NodeAuth> {
  let h: ReturnType<typeof readSignedHeaders>;
  try {
    h = readSignedHeaders(req.header);
  } catch (cause) {
    throw new CoordinatorError('Unauthenticated', (cause as Error).message.replace(/^\w+: /, ''), {
      cause,
    });
  }
  for (let fresh = false; ; fresh = true) {
    const { member, publicKey, cached } = await memberWithKey(ctx, h.memberId, { fresh });
    let refusal: CoordinatorError;
    if (member.status === 'revoked') {
      refusal = new CoordinatorError('MemberRevoked', `member "${member.id}" has been revoked`);
    } else if (
      !verifyRequest(
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
      )
    ) {
      refusal = new CoordinatorError(
        'BadSignature',
        `request signature from "${member.id}" does not verify`,
      );
    } else {
      const skew = Math.abs(ctx.now().getTime() - h.timestamp);
      if (skew > ctx.config.requestMaxAgeMs) {
        throw new CoordinatorError(
          'StaleRequest',
          `request timestamp is ${Math.round(skew / 1000)} s off the coordinator's clock`,
        );
      }
      const claim: NonceClaim = {
        claimant: { memberId: member.id, status: member.status, publicKey },
        nonce: h.nonce,
        expiresAt: new Date(h.timestamp + 2 * ctx.config.requestMaxAgeMs),
      };
      if (o.claim === false) return { member, claim, claimed: false };
      // Claimed (stored) before the request is handled: a nonce already stored is a replay.
      if (await nonceClaims(ctx).claim(claim.claimant, claim.nonce, claim.expiresAt))
        return { member, claim, claimed: true };
      refusal = new CoordinatorError('ReplayedRequest', 'this request (nonce) was already served');
    }
    // A refusal decided on cached data is decided again on a fresh read.
    if (!cached) throw refusal;
  }
}

/** Whether a member's nonce is stored: its request was served (or is being served). */
export async function nonceTaken(
  ctx: CoordinatorContext,
  memberId: NodeId,
  nonce: string,
): Promise<boolean> {
  const rows = await ctx.db
    .select({ nonce: requestNonces.nonce })
    .from(requestNonces)
    .where(and(eq(requestNonces.memberId, memberId), eq(requestNonces.nonce, nonce)));
  return rows.length > 0;
}

/**
 * Releases the nonce of a request that failed, so that refused input leaves nothing stored (a
 * replay of a failed request fails the same way, or is refused by the state it would change).
 */
export async function releaseNonce(
  ctx: CoordinatorContext,
  memberId: NodeId,
  nonce: string,
): Promise<void> {
  await ctx.db
    .delete(requestNonces)
    .where(and(eq(requestNonces.memberId, memberId), eq(requestNonces.nonce, nonce)));
}

/** Deletes nonces past their expiry (they can no longer be replayed: the timestamp is stale). */
export async function pruneNonces(ctx: CoordinatorContext): Promise<void> {
  await ctx.db.delete(requestNonces).where(lt(requestNonces.expiresAt, ctx.now()));
}

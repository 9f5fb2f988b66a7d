import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import { NodeIdSchema, bytesEqual, verify } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { invites, memberKeys, members } from '../db';
import { CoordinatorError } from '../errors';
import { fingerprint } from '../keys';
import { audit } from './audit';
import { newToken, tokenHash } from './tokens';

/**
 * Membership: single-use expiring invites, joining with an Ed25519 identity key (with proof of
 * possession), approval, revocation and key rotation. An invite string carries the coordinator's
 * key fingerprint so the joining node can pin the coordinator's key.
 */
const encoder = new TextEncoder();

/** What a node signs to join: proves it holds the private key of the public key it registers. */
export function joinProofMessage(invite: string, publicKey: Uint8Array): Uint8Array {
  return encoder.encode(`coopfl/join/v1\n${invite}\n${Buffer.from(publicKey).toString('hex')}`);
}

/** What a node signs with its NEW key to rotate to it. */
export function rotationProofMessage(memberId: string, publicKey: Uint8Array): Uint8Array {
  return encoder.encode(`coopfl/rotate/v1\n${memberId}\n${Buffer.from(publicKey).toString('hex')}`);
}

/** Parses "cfi_<token>.<fingerprint>" into its parts (the token part is what is hashed). */
export function parseInvite(invite: string): { token: string; fingerprint: string } {
  const m = /^(cfi_[A-Za-z0-9_-]{43})\.([0-9a-f]{32})$/.exec(invite);
  if (!m) throw new CoordinatorError('InviteInvalid', 'the invite is not a CoopFL invite string');
  return { token: m[1]!, fingerprint: m[2]! };
}

export async function createInvite(
  ctx: CoordinatorContext,
  input: { createdBy: string; expiresInHours?: number; note?: string },
): Promise<{ invite: string; expiresAt: Date }> {
  const hours = input.expiresInHours ?? 72;
  if (!(hours > 0 && hours <= 24 * 90))
    throw new CoordinatorError('BadRequest', 'expiresInHours must be in (0, 2160]');
  const { token, hash } = newToken(ctx.random, 'cfi_');
  const expiresAt = new Date(ctx.now().getTime() + hours * 3600_000);
  await ctx.db
    .insert(invites)
    .values({ tokenHash: hash, createdBy: input.createdBy, note: input.note ?? null, expiresAt });
  await audit(ctx.db, input.createdBy, 'invite.create', null, {
    expiresAt: expiresAt.toISOString(),
  });
  return { invite: `${token}.${fingerprint(ctx.key.publicKey)}`, expiresAt };
}

function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return s || 'member';
}

/**
 * A node joins with an invite. Everything is checked before anything is written, and the writes
 * (member, key, invite use) happen in one transaction, so a refused join changes no row.
 */
export async function join(
  ctx: CoordinatorContext,
  input: {
    invite: string;
    name: string;
    publicKey: Uint8Array;
    proof: Uint8Array;
    profile?: Record<string, unknown>;
  },
): Promise<{ memberId: NodeId; status: Member['status'] }> {
  const { token } = parseInvite(input.invite);
  if (input.publicKey.length !== 32)
    throw new CoordinatorError('BadRequest', 'publicKey must be 32 bytes');
  if (
    input.proof.length !== 64 ||
    !verify(input.proof, joinProofMessage(input.invite, input.publicKey), input.publicKey)
  ) {
    throw new CoordinatorError(
      'BadSignature',
      'the join proof does not verify under the submitted public key',
    );
  }
  return ctx.db.transaction(async (tx) => {
    const [inv] = await tx
      .select()
      .from(invites)
      .where(eq(invites.tokenHash, tokenHash(token)))
      .for('update');
    if (!inv) throw new CoordinatorError('InviteInvalid', 'unknown invite');
    if (inv.usedAt)
      throw new CoordinatorError('InviteInvalid', 'this invite has already been used');
    if (inv.expiresAt <= ctx.now())
      throw new CoordinatorError('InviteInvalid', 'this invite has expired');
    const taken = await tx
      .select({ id: memberKeys.id })
      .from(memberKeys)
      .where(eq(memberKeys.publicKey, input.publicKey));
    if (taken.length > 0)
      throw new CoordinatorError('Conflict', 'this public key is already registered');
    const suffix = new Uint8Array(4);
    ctx.random.fill(suffix);
    const memberId = NodeIdSchema.parse(
      `${slug(input.name)}-${Buffer.from(suffix).toString('hex')}`,
    );
    const status = ctx.config.autoApprove ? 'approved' : 'pending';
    const now = ctx.now();
    await tx.insert(members).values({
      id: memberId,
      name: input.name,
      profile: input.profile ?? {},
      status,
      approvedAt: status === 'approved' ? now : null,
    });
    await tx.insert(memberKeys).values({ memberId, publicKey: input.publicKey });
    await tx.update(invites).set({ usedAt: now, memberId }).where(eq(invites.id, inv.id));
    await audit(tx, memberId, 'member.join', memberId, { status });
    return { memberId, status };
  });
}

export async function setMemberStatus(
  ctx: CoordinatorContext,
  memberId: string,
  status: 'approved' | 'revoked',
  actor: string,
): Promise<Member> {
  const now = ctx.now();
  const [row] = await ctx.db
    .update(members)
    .set(
      status === 'approved'
        ? { status, approvedAt: now, revokedAt: null }
        : { status, revokedAt: now },
    )
    .where(eq(members.id, memberId as NodeId))
    .returning();
  if (!row) throw new CoordinatorError('NotFound', `no member "${memberId}"`);
  forgetMember(ctx, memberId);
  await audit(ctx.db, actor, `member.${status === 'approved' ? 'approve' : 'revoke'}`, memberId);
  return row;
}

export async function listMembers(ctx: CoordinatorContext): Promise<Member[]> {
  return ctx.db.select().from(members).orderBy(desc(members.createdAt));
}

/**
 * (member, active key) pairs read for signed requests, kept so that a member's requests do not
 * each read them again. A cached pair is never trusted on its own: {@link authenticateNode}
 * stores a request's nonce only if, in that same statement, the member still has the cached
 * status and key, and decides any refusal from a fresh read. So a revocation or key rotation made
 * anywhere (this process, the CLI, another coordinator) takes effect on the next request.
 */
const memberCaches = new WeakMap<object, Map<string, { member: Member; publicKey: Uint8Array }>>();

function memberCache(ctx: Pick<CoordinatorContext, 'db'>) {
  let cache = memberCaches.get(ctx.db);
  if (!cache)
    memberCaches.set(
      ctx.db,
      (cache = new Map<string, { member: Member; publicKey: Uint8Array }>()),
    );
  return cache;
}

/**
 * Caches (member, active key) pairs just read for another purpose, such as a round's cohort at its
 * start, whose requests follow at once. Like any cached pair they only ever speed up acceptance.
 */
export function rememberMembers(
  ctx: Pick<CoordinatorContext, 'db'>,
  rows: readonly { member: Member; publicKey: Uint8Array }[],
): void {
  const cache = memberCache(ctx);
  if (cache.size + rows.length > 100_000) cache.clear();
  for (const { member, publicKey } of rows) cache.set(member.id, { member, publicKey });
}

/** Forgets a member's cached record (after its status or key changed). */
export function forgetMember(ctx: Pick<CoordinatorContext, 'db'>, memberId: string): void {
  memberCache(ctx).delete(memberId);
}

/**
 * The (member, active key) lookup behind every signed request, built once per database handle:
 * drizzle then only fills in the id instead of assembling the SQL each time.
 */
const memberWithKeyQueries = new WeakMap<object, ReturnType<typeof buildMemberWithKeyQuery>>();
function buildMemberWithKeyQuery(db: CoordinatorContext['db']) {
  return db
    .select({ member: members, publicKey: memberKeys.publicKey })
    .from(members)
    .innerJoin(memberKeys, and(eq(memberKeys.memberId, members.id), isNull(memberKeys.revokedAt)))
    .where(eq(members.id, sql.placeholder('memberId')))
    .prepare('member_with_key');
}
function memberWithKeyQuery(db: CoordinatorContext['db']) {
  let q = memberWithKeyQueries.get(db);
  if (!q) memberWithKeyQueries.set(db, (q = buildMemberWithKeyQuery(db)));
  return q;
}

/**
 * A member and its active identity key; UnknownMember when either is missing. `cached` says the
 * pair came from the cache (without `fresh`), to be confirmed by the request's nonce claim.
 */
export async function memberWithKey(
  ctx: CoordinatorContext,
  memberId: string,
  o: { fresh?: boolean } = {},
): Promise<{ member: Member; publicKey: Uint8Array; cached: boolean }> {
  const cache = memberCache(ctx);
  const hit = o.fresh ? undefined : cache.get(memberId);
  if (hit) return { ...hit, cached: true };
  const rows = await memberWithKeyQuery(ctx.db).execute({ memberId });
  const row = rows[0];
  if (!row) {
    cache.delete(memberId);
    throw new CoordinatorError('UnknownMember', `unknown member "${memberId}"`);
  }
  if (cache.size >= 100_000) cache.clear();
  cache.set(memberId, row);
  return { ...row, cached: false };
}

/** Replaces a member's identity key; the new key must sign the rotation request too. */
export async function rotateKey(
  ctx: CoordinatorContext,
  memberId: NodeId,
  newPublicKey: Uint8Array,
  proof: Uint8Array,
): Promise<void> {
  if (newPublicKey.length !== 32)
    throw new CoordinatorError('BadRequest', 'publicKey must be 32 bytes');
  if (
    proof.length !== 64 ||
    !verify(proof, rotationProofMessage(memberId, newPublicKey), newPublicKey)
  ) {
    throw new CoordinatorError(
      'BadSignature',
      'the rotation proof does not verify under the new key',
    );
  }
  await ctx.db.transaction(async (tx) => {
    const current = await tx
      .select()
      .from(memberKeys)
      .where(and(eq(memberKeys.memberId, memberId), isNull(memberKeys.revokedAt)));
    if (current.some((k) => bytesEqual(k.publicKey, newPublicKey))) {
      throw new CoordinatorError('Conflict', 'that key is already the active key');
    }
    await tx
      .update(memberKeys)
      .set({ revokedAt: ctx.now() })
      .where(and(eq(memberKeys.memberId, memberId), isNull(memberKeys.revokedAt)));
    await tx.insert(memberKeys).values({ memberId, publicKey: newPublicKey });
    await audit(tx, memberId, 'member.rotateKey', memberId);
  });
  forgetMember(ctx, memberId);
}

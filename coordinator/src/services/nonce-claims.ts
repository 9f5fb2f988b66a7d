import type { SQL } from 'drizzle-orm';
import { getTableName, sql } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import type { Member } from '../db';
import { SQLSTATE, dbErrorInfo, memberKeys, members, requestNonces } from '../db';

/** Who a request was authenticated as: the member's status and the key its signature verified. */
export interface Claimant {
  readonly memberId: NodeId;
  readonly status: Member['status'];
  readonly publicKey: Uint8Array;
}

interface Pending {
  readonly claimant: Claimant;
  readonly nonce: string;
  readonly expiresAt: Date;
  readonly resolve: (claimed: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Claims request nonces with group commit: the claims of all requests that arrive while one
 * insert is in flight, or in the same turn of the event loop, go to the database together, in one
 * `INSERT … ON CONFLICT DO NOTHING RETURNING`. Each request still waits for its own claim to be
 * stored before it is handled, so replay refusal is exactly as strict as one insert per request —
 * across coordinators sharing the database too — but 50 members polling at once cost a few
 * statements instead of 50.
 *
 * The first claim of a group is written on `setImmediate`, once the requests whose bytes have
 * already arrived have been read: embedded PGlite answers a statement without ever leaving the
 * JavaScript thread, so "while one insert is in flight" alone never grouped anything there (each
 * of a round's 100 task and weights requests cost its own statement).
 *
 * A nonce is stored only if, in the same statement, the member still has the status and the
 * active key the request was authenticated with: a claim made from a cached member record is thus
 * checked against the database, and a revocation or key rotation made anywhere (the CLI, another
 * coordinator) refuses the next request at once. A refused claim is a replay or such a change;
 * {@link authenticateNode} tells them apart by reading the member again.
 */
export class NonceClaims {
  #pending: Pending[] = [];
  #flushing = false;

  constructor(private readonly ctx: Pick<CoordinatorContext, 'db'>) {}

  /**
   * Stores the nonce; resolves false when it was already stored (a replay) or the claimant's
   * status or key is no longer the member's.
   */
  claim(claimant: Claimant, nonce: string, expiresAt: Date): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ claimant, nonce, expiresAt, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        // The same nonce twice in one batch: only the first may succeed.
        const first = new Map<string, Pending>();
        for (const p of batch) {
          const key = `${p.claimant.memberId}\u0000${p.nonce}`;
          if (first.has(key)) p.resolve(false);
          else first.set(key, p);
        }
        const rows = [...first.values()];
        try {
          const stored = rows.length === 1 ? await this.#one(rows[0]!) : await this.#many(rows);
          const ok = new Set(stored.map((s) => `${s.memberId}\u0000${s.nonce}`));
          for (const [key, p] of first) p.resolve(ok.has(key));
        } catch (err) {
          for (const p of rows) p.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #one(p: Pending) {
    let q = claimOneQueries.get(this.ctx.db);
    if (!q) claimOneQueries.set(this.ctx.db, (q = buildClaimOne(this.ctx.db)));
    return q.execute(strictClaimValues(p));
  }

  /** Several claims in one statement, whatever their number (arrays through unnest). */
  #many(rows: Pending[]) {
    const column = (f: (p: Pending) => string) => sql.param(rows.map(f));
    return this.ctx.db
      .insert(requestNonces)
      .select(
        sql`select t.m, t.n, t.e::timestamptz from unnest(${column((r) => r.claimant.memberId)}::text[], ${column((r) => r.nonce)}::text[], ${column((r) => r.expiresAt.toISOString())}::text[], ${column((r) => r.claimant.status)}::text[], ${column((r) => hex(r.claimant.publicKey))}::text[]) as t(m, n, e, s, k) where ${holds(sql`t.m`, sql`t.s`, sql`t.k`)}`,
      )
      .onConflictDoNothing()
      .returning({ memberId: requestNonces.memberId, nonce: requestNonces.nonce });
  }
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** A request's nonce, to be stored together with what the request changes. */
export interface NonceClaim {
  readonly claimant: Claimant;
  readonly nonce: string;
  readonly expiresAt: Date;
}

/**
 * `insert into request_nonces …` of `claims`, for a data-modifying WITH of the statement that
 * stores what the requests change (RoundHost: a round message's events), so that both are stored
 * or neither. Unlike {@link NonceClaims} it is strict: no ON CONFLICT, and a claimant that no
 * longer holds the member's status and active key inserts a NULL member id — a nonce already
 * taken, or a member changed meanwhile, fails the whole statement ({@link isClaimRefusal}).
 */
export function strictClaimInsert(claims: readonly NonceClaim[]): SQL {
  const one = claims.length === 1 ? claims[0] : undefined;
  // One claim (the usual case) with plain parameters, which keeps the statement's plan.
  const rows = one
    ? sql`(select ${one.claimant.memberId}::text as m, ${one.nonce}::text as n, ${one.expiresAt.toISOString()}::text as e, ${one.claimant.status}::text as s, ${hex(one.claimant.publicKey)}::text as k) as t`
    : sql`unnest(${sql.param(claims.map((c) => c.claimant.memberId))}::text[], ${sql.param(claims.map((c) => c.nonce))}::text[], ${sql.param(claims.map((c) => c.expiresAt.toISOString()))}::text[], ${sql.param(claims.map((c) => c.claimant.status))}::text[], ${sql.param(claims.map((c) => hex(c.claimant.publicKey)))}::text[]) as t(m, n, e, s, k)`;
  return sql`insert into ${requestNonces} (member_id, nonce, expires_at) select case when ${holds(sql`t.m`, sql`t.s`, sql`t.k`)} then t.m end, t.n, t.e::timestamptz from ${rows}`;
}

/**
 * {@link strictClaimInsert} of one claim as a query builder over placeholders (`memberId`,
 * `nonce`, `expiresAt`, `status`, `key` in hex), for a prepared statement: built and planned once
 * rather than assembled for every round message.
 */
export function strictClaimOne(db: CoordinatorContext['db']) {
  const m = sql`${sql.placeholder('memberId')}::text`;
  const status = sql`${sql.placeholder('status')}::text`;
  const key = sql`${sql.placeholder('key')}::text`;
  return db
    .insert(requestNonces)
    .select(
      sql`select case when ${holds(m, status, key)} then ${m} end, ${sql.placeholder('nonce')}::text, ${sql.placeholder('expiresAt')}::timestamptz`,
    );
}

/** The placeholder values of {@link strictClaimOne} for `claim`. */
export const strictClaimValues = (claim: NonceClaim) => ({
  memberId: claim.claimant.memberId,
  nonce: claim.nonce,
  expiresAt: claim.expiresAt.toISOString(),
  status: claim.claimant.status,
  key: hex(claim.claimant.publicKey),
});

/** Whether a statement failed because {@link strictClaimInsert} refused a claim (stored nothing). */
export function isClaimRefusal(err: unknown): boolean {
  const info = dbErrorInfo(err);
  return (
    info?.table === getTableName(requestNonces) &&
    (info.code === SQLSTATE.UniqueViolation || info.code === SQLSTATE.NotNullViolation)
  );
}

/** `claimant` holds the member's current status and active key (the claim's condition). */
const holds = (m: SQL, s: SQL, k: SQL) =>
  sql`exists (select 1 from ${members} inner join ${memberKeys} on ${memberKeys.memberId} = ${members.id} and ${memberKeys.revokedAt} is null where ${members.id} = ${m} and ${members.status} = ${s} and ${memberKeys.publicKey} = decode(${k}, 'hex'))`;

/**
 * The claim of one nonce, built once per database handle. Plain parameters, not arrays: a
 * statement over `unnest` of array parameters is planned anew on every execution (its generic
 * plan cannot know the arrays' lengths), which tripled its cost; this one keeps its plan.
 */
function buildClaimOne(db: CoordinatorContext['db']) {
  const m = sql.placeholder('memberId');
  return db
    .insert(requestNonces)
    .select(
      sql`select ${m}::text, ${sql.placeholder('nonce')}::text, ${sql.placeholder('expiresAt')}::timestamptz where ${holds(sql`${m}::text`, sql`${sql.placeholder('status')}::text`, sql`${sql.placeholder('key')}::text`)}`,
    )
    .onConflictDoNothing()
    .returning({ memberId: requestNonces.memberId, nonce: requestNonces.nonce })
    .prepare('claim_nonce');
}
const claimOneQueries = new WeakMap<object, ReturnType<typeof buildClaimOne>>();

const claimsByContext = new WeakMap<object, NonceClaims>();

/** The context's nonce claimer (one per coordinator context). */
export function nonceClaims(ctx: Pick<CoordinatorContext, 'db'>): NonceClaims {
  let c = claimsByContext.get(ctx.db);
  if (!c) claimsByContext.set(ctx.db, (c = new NonceClaims(ctx)));
  return c;
}

import { sql } from 'drizzle-orm';
import type { NodeId } from '@coopfl/protocol';
import type { CoordinatorContext } from '../context';
import { requestNonces } from '../db';

interface Pending {
  readonly memberId: NodeId;
  readonly nonce: string;
  readonly expiresAt: Date;
  readonly resolve: (claimed: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Claims request nonces with group commit: the claims of all requests that arrive while one
 * insert is in flight go to the database together, in one `INSERT … ON CONFLICT DO NOTHING
 * RETURNING`. Each request still waits for its own claim to be stored before it is handled, so
 * replay refusal is exactly as strict as one insert per request — across coordinators sharing the
 * database too — but 50 members polling at once cost a few statements instead of 50.
 */
export class NonceClaims {
  #pending: Pending[] = [];
  #flushing = false;

  constructor(private readonly ctx: Pick<CoordinatorContext, 'db'>) {}

  /** Stores the nonce; resolves false when it was already stored (a replay). */
  claim(memberId: NodeId, nonce: string, expiresAt: Date): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ memberId, nonce, expiresAt, resolve, reject });
      if (!this.#flushing) void this.#flush();
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
          const key = `${p.memberId}\u0000${p.nonce}`;
          if (first.has(key)) p.resolve(false);
          else first.set(key, p);
        }
        const rows = [...first.values()];
        try {
          // One statement shape whatever the batch size (arrays through unnest), so it is
          // built cheaply and stays prepared, rather than a new n-row VALUES list each time.
          const memberIds = sql.param(rows.map((r) => r.memberId));
          const nonces = sql.param(rows.map((r) => r.nonce));
          const expiries = sql.param(rows.map((r) => r.expiresAt.toISOString()));
          const stored = await this.ctx.db
            .insert(requestNonces)
            .select(
              sql`select m, n, e::timestamptz from unnest(${memberIds}::text[], ${nonces}::text[], ${expiries}::text[]) as t(m, n, e)`,
            )
            .onConflictDoNothing()
            .returning({ memberId: requestNonces.memberId, nonce: requestNonces.nonce });
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
}

const claimsByContext = new WeakMap<object, NonceClaims>();

/** The context's nonce claimer (one per coordinator context). */
export function nonceClaims(ctx: Pick<CoordinatorContext, 'db'>): NonceClaims {
  let c = claimsByContext.get(ctx.db);
  if (!c) claimsByContext.set(ctx.db, (c = new NonceClaims(ctx)));
  return c;
}

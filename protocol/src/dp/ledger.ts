import { z } from 'zod';
import { DeltaSchema, EpsilonSchema, NodeIdSchema } from '../brand';
import type { Delta, NodeId } from '../brand';
import { ProtocolError } from '../errors';
import { tighterEpsilon } from './accountant';
import type { AccountantKind } from './accountant';
import type { AccountingEvent } from './events';
import { GaussianEventSchema, SkellamEventSchema } from './events';

/**
 * The privacy ledger: what each member has spent on each model, as a pure value (no I/O — the
 * coordinator persists the events and rebuilds a ledger from them). Every event and every report
 * names its privacy unit: `member` (member-level DP over rounds, what CoopFL promises for model
 * updates) or `record` (record-level DP inside a member, e.g. local DP-SGD); the two are never
 * mixed in one ε.
 */

/**
 * The unit whose participation an ε protects.
 *
 * @example
 * PrivacyUnitSchema.parse('member');
 */
export const PrivacyUnitSchema = z.enum(['member', 'record']);
export type PrivacyUnit = z.infer<typeof PrivacyUnitSchema>;

/**
 * A model's id as the coordinator names it (budgets are per model per member).
 *
 * @example
 * ModelIdSchema.parse('demand');
 */
export const ModelIdSchema = z.string().min(1, 'model id must not be empty').max(128);

const ledgerFields = {
  modelId: ModelIdSchema,
  /** The member's node id. */
  memberId: NodeIdSchema,
  unit: PrivacyUnitSchema,
  /** When the mechanism ran (ISO 8601 with offset). */
  at: z.iso.datetime({ offset: true }),
};

/**
 * One ledger line: an accounting event (mechanism, parameters, sampling rate, steps) plus whose
 * privacy it spent, on which model, in which unit, and when.
 *
 * @example
 * PrivacyEventSchema.parse({
 *   modelId: 'demand', memberId: 'shop-1', unit: 'member', at: '2025-01-01T00:00:00Z',
 *   mechanism: 'gaussian', noiseMultiplier: 1.1, samplingRate: 0.2, steps: 1,
 * });
 */
export const PrivacyEventSchema = z.discriminatedUnion('mechanism', [
  GaussianEventSchema.extend(ledgerFields),
  SkellamEventSchema.extend(ledgerFields),
]);
export type PrivacyEvent = z.infer<typeof PrivacyEventSchema>;

/**
 * A member's budget for one model: the (ε, δ) it may spend, in a stated unit.
 *
 * @example
 * PrivacyBudgetSchema.parse({ epsilon: 8, delta: 1e-6, unit: 'member' });
 */
export const PrivacyBudgetSchema = z.object({
  epsilon: EpsilonSchema,
  delta: DeltaSchema,
  unit: PrivacyUnitSchema,
});
export type PrivacyBudget = z.infer<typeof PrivacyBudgetSchema>;

/** What a member has spent on a model, in one unit. */
export interface PrivacyReport {
  modelId: string;
  memberId: NodeId;
  unit: PrivacyUnit;
  epsilon: number;
  delta: number;
  accountant: AccountantKind;
  /** Number of ledger events composed. */
  events: number;
}

/** Answer of {@link PrivacyLedger.wouldExceed}. */
export interface BudgetCheck {
  exceeds: boolean;
  unit: PrivacyUnit;
  epsilonBefore: number;
  epsilonAfter: number;
  budget: PrivacyBudget;
}

type Memo = Map<string, { epsilon: number; accountant: AccountantKind }>;

function key(modelId: string, memberId: string, unit: PrivacyUnit): string {
  return JSON.stringify([modelId, memberId, unit]);
}

/** Canonical form of a multiset of mechanisms, so that equal histories share one computation. */
function historyKey(events: readonly AccountingEvent[], delta: number): string {
  const counts = new Map<string, number>();
  for (const e of events) {
    const k =
      e.mechanism === 'gaussian'
        ? JSON.stringify(['g', e.noiseMultiplier, e.samplingRate])
        : JSON.stringify([
            's',
            e.skellam.mu,
            e.skellam.l2Sensitivity,
            e.skellam.l1Sensitivity,
            e.samplingRate,
          ]);
    counts.set(k, (counts.get(k) ?? 0) + e.steps);
  }
  return JSON.stringify([delta, [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * An immutable ledger of privacy events with ε per (model, member, unit) at a configured δ, using
 * the tighter of RDP and PLD (PLD only when all events are Gaussian). Results are memoised by
 * history, so checking a whole cohort with identical histories costs one accounting run.
 *
 * @example
 * const ledger = new PrivacyLedger({ delta: asDelta(1e-6), events: await loadEvents() });
 * const check = ledger.wouldExceed(budget, proposedEvent);
 * if (check.exceeds) skipMember();
 */
export class PrivacyLedger {
  readonly delta: Delta;
  readonly events: readonly PrivacyEvent[];
  readonly #byKey = new Map<string, PrivacyEvent[]>();
  readonly #memo: Memo;

  /** `events` are parsed with {@link PrivacyEventSchema}; `memo` is internal (shared by {@link with}). */
  constructor(opts: { delta: Delta; events?: readonly unknown[] }, memo?: Memo) {
    this.delta = DeltaSchema.parse(opts.delta);
    this.events = Object.freeze((opts.events ?? []).map((e) => PrivacyEventSchema.parse(e)));
    for (const e of this.events) {
      const k = key(e.modelId, e.memberId, e.unit);
      const list = this.#byKey.get(k);
      if (list) list.push(e);
      else this.#byKey.set(k, [e]);
    }
    this.#memo = memo ?? (new Map() as Memo);
  }

  /**
   * The events at or after `from` only, for a budget that renews each period (a member's cap of
   * ε per year, say). The lifetime total is still what {@link spent} on the full ledger says.
   */
  since(from: Date): PrivacyLedger {
    const t = from.getTime();
    return new PrivacyLedger(
      { delta: this.delta, events: this.events.filter((e) => Date.parse(e.at) >= t) },
      this.#memo,
    );
  }

  /** A new ledger with `event` appended (this one is unchanged). */
  with(event: PrivacyEvent): PrivacyLedger {
    return new PrivacyLedger({ delta: this.delta, events: [...this.events, event] }, this.#memo);
  }

  #epsilon(
    events: readonly AccountingEvent[],
    delta: number,
  ): { epsilon: number; accountant: AccountantKind } {
    if (events.length === 0) return { epsilon: 0, accountant: 'rdp' };
    const k = historyKey(events, delta);
    let r = this.#memo.get(k);
    if (!r) {
      const t = tighterEpsilon({ events, delta });
      r = { epsilon: t.epsilon, accountant: t.accountant };
      this.#memo.set(k, r);
    }
    return r;
  }

  /**
   * What `memberId` has spent on `modelId` in `unit`, at the ledger's δ.
   *
   * @example
   * ledger.spent({ modelId: 'demand', memberId: nodeId('shop-1'), unit: 'member' }).epsilon;
   */
  spent(opts: { modelId: string; memberId: NodeId; unit: PrivacyUnit }): PrivacyReport {
    const events = this.#byKey.get(key(opts.modelId, opts.memberId, opts.unit)) ?? [];
    const r = this.#epsilon(events, this.delta);
    return {
      ...opts,
      epsilon: r.epsilon,
      delta: this.delta,
      accountant: r.accountant,
      events: events.length,
    };
  }

  /** One report per (model, member, unit) that has events. */
  reports(): PrivacyReport[] {
    return [...this.#byKey.values()].map((list) => {
      const e = list[0]!;
      return this.spent({ modelId: e.modelId, memberId: e.memberId, unit: e.unit });
    });
  }

  /**
   * Whether running `proposed` would take its member past `budget` on its model (at the budget's
   * δ). Call before a round starts, for every cohort member; a member that would exceed is left
   * out. The units of budget and event must agree.
   *
   * @example
   * ledger.wouldExceed({ epsilon: asEpsilon(8), delta: asDelta(1e-6), unit: 'member' }, nextRound).exceeds;
   */
  wouldExceed(budget: PrivacyBudget, proposed: PrivacyEvent): BudgetCheck {
    const b = PrivacyBudgetSchema.parse(budget);
    const p = PrivacyEventSchema.parse(proposed);
    if (p.unit !== b.unit) {
      throw new ProtocolError(
        'PrivacyUnitMismatch',
        `event is accounted per ${p.unit} but the budget is per ${b.unit}`,
      );
    }
    const past = this.#byKey.get(key(p.modelId, p.memberId, p.unit)) ?? [];
    const before = this.#epsilon(past, b.delta).epsilon;
    const after = this.#epsilon([...past, p], b.delta).epsilon;
    return {
      exceeds: after > b.epsilon,
      unit: b.unit,
      epsilonBefore: before,
      epsilonAfter: after,
      budget: b,
    };
  }

  /**
   * Throws BudgetExceeded when {@link wouldExceed} says so; the message names model, member and unit
   * (never any data).
   *
   * @example
   * ledger.assertWithinBudget(budget, nextRound); // throws ProtocolError('BudgetExceeded', …)
   */
  assertWithinBudget(budget: PrivacyBudget, proposed: PrivacyEvent): BudgetCheck {
    const check = this.wouldExceed(budget, proposed);
    if (check.exceeds) {
      throw new ProtocolError(
        'BudgetExceeded',
        `member "${proposed.memberId}" would spend ε = ${check.epsilonAfter.toFixed(3)} > ${b2s(check.budget)} (${check.unit}-level) on model "${proposed.modelId}"`,
      );
    }
    return check;
  }
}

function b2s(b: PrivacyBudget): string {
  return `${b.epsilon} at δ = ${b.delta}`;
}

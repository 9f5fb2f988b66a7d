import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { parsePeriod, sizeBandOf, type KpiId, type SizeBand } from '@coopfl/protocol/benchmarks';
import type { ModelKind } from '@coopfl/protocol/models';
import { CoopNodeError } from '../errors';
import { DAY_MS, num } from '../models/shop-data';
import type { StoreDatabase } from '../store/open';
import { resultRows } from '../store/result';
import { knownModels, localMetrics } from '../store/schema';
import { checkStoreSource, type StoreSourceCheck, type StoreViews } from '../store/source';

/** A shop's benchmark KPIs for one period, computed on the node and never sent as rows. */
export interface ShopKpis {
  /** The period as given (`2026-10`, `2026-Q4`, `2026`). */
  period: string;
  /** Days of the period; of a running one, the days begun by `now` (its orders up to `now`). */
  periodDays: number;
  /** The KPIs defined for this shop and period, each a finite number. */
  values: Partial<Record<KpiId, number>>;
  /** Why each absent KPI is absent (a short sentence, no data values). */
  missing: Partial<Record<KpiId, string>>;
  /** What peer groups are chosen by (the node decides membership itself). */
  attributes: { sizeBand: SizeBand; mainCategory: string | null; orders: number };
}

/** Options of {@link computeKpis}. */
export interface ComputeKpisOptions {
  /** The clock (default: the current time): a running period counts its orders and days up to it. */
  now?: Date;
  /** The relations to read, as in the node config (default: the canonical `shop` tables). */
  views?: Partial<StoreViews>;
  /** The relations already checked (a `StoreSource`'s `found`): used instead of `views`. */
  found?: StoreSourceCheck;
  /** The shop's `store_id` when the store database holds several shops (demo, simulator). */
  storeId?: string;
}

/**
 * Order statuses that count as cancelled or refunded (`cancellation_rate`), and that revenue,
 * average order value and item revenue leave out. Compared trimmed and lower-cased.
 */
export const CANCELLED_STATUSES = ['cancelled', 'canceled', 'refunded', 'returned', 'voided'];

/** The model-quality KPIs: which model kind's local metric each one reports. */
export const MODEL_KPI_SOURCES = [
  { kpi: 'forecast_error', kind: 'demand', metric: 'wape' },
  { kpi: 'recommendation_ndcg', kind: 'recommendation', metric: 'ndcg_10' },
  { kpi: 'fraud_pr_auc', kind: 'fraud', metric: 'pr_auc' },
] as const satisfies readonly { kpi: KpiId; kind: ModelKind; metric: string }[];

type Tx = Parameters<Parameters<StoreDatabase['transaction']>[0]>[0];
type Relation = 'orders' | 'orderItems' | 'products' | 'fraudLabels';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const NO_ORDERS = 'The shop has no orders in the period.';
const ORDER_KPIS = [
  'orders',
  'revenue',
  'average_order_value',
  'items_per_order',
  'repeat_purchase_rate',
  'retention_90d',
  'cancellation_rate',
  'fraud_rate',
  'top_category_share',
] as const satisfies readonly KpiId[];

/** `"schema"."name"` of a relation that {@link checkStoreSource} found (validated again here). */
function relation(found: StoreSourceCheck, key: Relation): SQL | null {
  const f = found[key];
  if (f === null) return null;
  const parts = f.relation.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new CoopNodeError('InvalidConfig', `store view for ${key} is not a plain name`);
  }
  return sql.raw(parts.map((p) => `"${p}"`).join('.'));
}

/** `alias."column"`, or a typed null when the relation lacks that optional column. */
function column(found: StoreSourceCheck, key: Relation, alias: string, name: string, type: string) {
  const f = found[key];
  return sql.raw(f?.optional.includes(name) ? `${alias}."${name}"` : `null::${type}`);
}

/**
 * The shop's benchmark KPIs for `period`, exactly as `KPIS` in `@coopfl/protocol/benchmarks`
 * defines them, read through the same relations (views) the models read, with aggregate queries
 * in one read-only transaction. KPIs without data are left out of `values` with the reason in
 * `missing`. Model-quality KPIs report the latest local metric of the latest version of the
 * known model of that kind.
 *
 * @throws the error of `parsePeriod` for a malformed period; `CoopNodeError` `InvalidArgument`
 *   when the store holds several shops and no `storeId` is given; `StoreSchemaMismatch` for a
 *   missing relation or column.
 * @example
 * const kpis = await computeKpis(db, '2026-Q3', { views: config.views, storeId: config.storeId });
 * if (kpis.values.average_order_value !== undefined) contribute(kpis);
 */
export async function computeKpis(
  db: StoreDatabase,
  period: string,
  opts: ComputeKpisOptions = {},
): Promise<ShopKpis> {
  const { start, end } = parsePeriod(period);
  const now = opts.now ?? new Date();
  // A running period is counted up to `now`: its orders so far, over the days begun so far.
  const until = new Date(Math.max(start.getTime(), Math.min(end.getTime(), now.getTime())));
  const periodDays = Math.ceil((until.getTime() - start.getTime()) / DAY_MS);
  const found = opts.found ?? (await checkStoreSource(db, opts.views ?? {}));
  return db.transaction(
    async (tx) => {
      if (opts.storeId === undefined) await assertOneShop(tx, found);
      const q = new Queries(found, opts.storeId, start, until);
      const o = await q.orders(tx);
      const c = await q.customers(tx);
      const cat = await q.categories(tx);
      const values: ShopKpis['values'] = {};
      const missing: ShopKpis['missing'] = {};
      const put = (id: KpiId, value: number | null, reason: string) => {
        if (value !== null && Number.isFinite(value)) values[id] = value;
        else missing[id] = reason;
      };
      if (o.orders === 0) {
        for (const id of ORDER_KPIS) missing[id] = NO_ORDERS;
      } else {
        values.orders = o.orders;
        const kept = o.orders - o.cancelled;
        const noAmount = 'No order total or item price is known for the period’s orders.';
        put('revenue', kept > 0 && o.counted === 0 ? null : o.revenue, noAmount);
        put(
          'average_order_value',
          o.counted > 0 ? o.revenue / o.counted : null,
          kept === 0 ? 'Every order in the period was cancelled or refunded.' : noAmount,
        );
        put(
          'items_per_order',
          o.withItems > 0 ? o.units / o.withItems : null,
          'No order in the period has items.',
        );
        put('repeat_purchase_rate', c.customers > 0 ? c.repeaters / c.customers : null, NO_ORDERS);
        put(
          'retention_90d',
          c.newCustomers > 0 ? c.retained / c.newCustomers : null,
          'No customer placed a first order in the period.',
        );
        put(
          'cancellation_rate',
          found.orders?.optional.includes('status') ? o.cancelled / o.orders : null,
          'The orders relation has no status column.',
        );
        put(
          'fraud_rate',
          o.labelled > 0 ? o.fraud / o.labelled : null,
          found.fraudLabels === null
            ? 'The store has no fraud labels.'
            : 'No order in the period has a fraud label.',
        );
        put(
          'top_category_share',
          cat.total > 0 && cat.categorised > 0 ? cat.top3 / cat.total : null,
          !found.orderItems?.optional.includes('unit_price')
            ? 'The order items relation has no unit price column.'
            : !found.products?.optional.includes('category')
              ? 'The products relation has no category column.'
              : cat.total <= 0
                ? 'No priced item was sold in the period.'
                : 'No item sold in the period has a product category.',
        );
      }
      for (const s of MODEL_KPI_SOURCES) {
        const m = await latestMetric(tx, s.kind, s.metric);
        if (typeof m === 'number') values[s.kpi] = m;
        else missing[s.kpi] = m.reason;
      }
      return {
        period,
        periodDays,
        values,
        missing,
        attributes: {
          sizeBand: sizeBandOf(o.orders, periodDays),
          mainCategory: cat.main,
          orders: o.orders,
        },
      };
    },
    { accessMode: 'read only', isolationLevel: 'repeatable read' },
  );
}

/** Without a `storeId`, every relation read must hold one shop (as the models require). */
async function assertOneShop(tx: Tx, found: StoreSourceCheck): Promise<void> {
  const keys: Relation[] = ['orders', 'orderItems', 'products', 'fraudLabels'];
  for (const key of keys) {
    const from = relation(found, key);
    if (from === null) continue;
    const [row] = resultRows<{ several: unknown }>(
      await tx.execute(
        sql`select (min(store_id) is distinct from max(store_id)) as several from ${from}`,
      ),
    );
    if (row?.several === true || row?.several === 't') {
      throw new CoopNodeError(
        'InvalidArgument',
        `relation ${key} holds rows of several shops: pass storeId to choose one`,
      );
    }
  }
}

/** The aggregate queries behind the order-based KPIs (one row back from each). */
class Queries {
  private readonly orders_: SQL;
  private readonly items: SQL;
  private readonly products: SQL;
  private readonly labels: SQL | null;
  private readonly s: SQL;
  private readonly e: SQL;

  constructor(
    private readonly found: StoreSourceCheck,
    private readonly storeId: string | undefined,
    start: Date,
    end: Date,
  ) {
    // Required relations are never null after checkStoreSource.
    this.orders_ = relation(found, 'orders')!;
    this.items = relation(found, 'orderItems')!;
    this.products = relation(found, 'products')!;
    this.labels = relation(found, 'fraudLabels');
    this.s = sql`${start.toISOString()}::timestamptz`;
    this.e = sql`${end.toISOString()}::timestamptz`;
  }

  private store(alias: string): SQL {
    return this.storeId === undefined
      ? sql`true`
      : sql`${sql.raw(alias)}.store_id::text = ${this.storeId}`;
  }

  private inPeriod(alias: string): SQL {
    const t = sql.raw(`${alias}.created_at::timestamptz`);
    return sql`${t} >= ${this.s} and ${t} < ${this.e}`;
  }

  private cancelled(alias: string): SQL {
    const status = column(this.found, 'orders', alias, 'status', 'text');
    const list = sql.join(
      CANCELLED_STATUSES.map((v) => sql`${v}`),
      sql`, `,
    );
    return sql`coalesce(lower(trim(${status}::text)) in (${list}), false)`;
  }

  /** Counts, revenue, units and fraud labels over the period's orders. */
  async orders(tx: Tx) {
    const total = column(this.found, 'orders', 'o', 'total', 'numeric');
    const price = column(this.found, 'orderItems', 'i', 'unit_price', 'numeric');
    const labels =
      this.labels === null
        ? sql`select null::text as store_id, null::text as order_id, null::boolean as is_fraud where false`
        : sql`select f.store_id::text as store_id, f.order_id::text as order_id, bool_or(f.is_fraud) as is_fraud
            from ${this.labels} f join p on p.store_id = f.store_id::text and p.order_id = f.order_id::text
            group by 1, 2`;
    const res = await tx.execute(sql`
      with p as (
        select o.store_id::text as store_id, o.order_id::text as order_id,
          ${this.cancelled('o')} as cancelled, ${total}::numeric as total
        from ${this.orders_} o where ${this.store('o')} and ${this.inPeriod('o')}
      ), it as (
        select i.store_id::text as store_id, i.order_id::text as order_id,
          sum(i.quantity) as units, sum(i.quantity * ${price}::numeric) as amount
        from ${this.items} i join p on p.store_id = i.store_id::text and p.order_id = i.order_id::text
        group by 1, 2
      ), fl as (${labels}), x as (
        select p.cancelled, coalesce(p.total, it.amount) as amount, it.units, fl.is_fraud
        from p left join it on it.store_id = p.store_id and it.order_id = p.order_id
          left join fl on fl.store_id = p.store_id and fl.order_id = p.order_id
      )
      select count(*)::int as orders,
        count(*) filter (where cancelled)::int as cancelled,
        count(*) filter (where not cancelled and amount is not null)::int as counted,
        coalesce(sum(amount) filter (where not cancelled), 0)::float8 as revenue,
        count(units)::int as with_items,
        coalesce(sum(units), 0)::float8 as units,
        count(is_fraud)::int as labelled,
        count(*) filter (where is_fraud)::int as fraud
      from x`);
    const r = resultRows<Record<string, unknown>>(res)[0] ?? {};
    return {
      orders: num(r.orders) ?? 0,
      cancelled: num(r.cancelled) ?? 0,
      counted: num(r.counted) ?? 0,
      revenue: num(r.revenue) ?? 0,
      withItems: num(r.with_items) ?? 0,
      units: num(r.units) ?? 0,
      labelled: num(r.labelled) ?? 0,
      fraud: num(r.fraud) ?? 0,
    };
  }

  /** Customers of the period, those who had ordered before, new ones and those retained. */
  async customers(tx: Tx) {
    const t = sql.raw('o.created_at::timestamptz');
    const res = await tx.execute(sql`
      with c as (
        select o.store_id::text as s, o.customer_id::text as cid,
          count(*) filter (where ${this.inPeriod('o')}) as in_period,
          count(*) filter (where ${t} < ${this.s}) as earlier,
          min(${t}) as first_at
        from ${this.orders_} o where ${this.store('o')}
        group by 1, 2
      ), r as (
        select c.s, c.cid, count(*) as k
        from c join ${this.orders_} o on o.store_id::text = c.s and o.customer_id::text = c.cid
          and ${t} <= c.first_at + interval '90 days'
        where c.in_period > 0 and c.earlier = 0
        group by 1, 2
      )
      select (select count(*) from c where in_period > 0)::int as customers,
        (select count(*) from c where in_period > 0 and (in_period >= 2 or earlier >= 1))::int
          as repeaters,
        (select count(*) from r)::int as new_customers,
        (select count(*) from r where k >= 2)::int as retained`);
    const r = resultRows<Record<string, unknown>>(res)[0] ?? {};
    return {
      customers: num(r.customers) ?? 0,
      repeaters: num(r.repeaters) ?? 0,
      newCustomers: num(r.new_customers) ?? 0,
      retained: num(r.retained) ?? 0,
    };
  }

  /** Item revenue of the period's kept orders by product category. */
  async categories(tx: Tx) {
    const price = column(this.found, 'orderItems', 'i', 'unit_price', 'numeric');
    const category = column(this.found, 'products', 'pr', 'category', 'text');
    const res = await tx.execute(sql`
      with pc as (
        select pr.store_id::text as s, pr.product_id::text as pid,
          min(nullif(lower(trim(${category}::text)), '')) as category
        from ${this.products} pr where ${this.store('pr')}
        group by 1, 2
      ), cat as (
        select pc.category, sum(i.quantity * ${price}::numeric) as rev
        from ${this.items} i
          join ${this.orders_} o on o.store_id::text = i.store_id::text
            and o.order_id::text = i.order_id::text
          left join pc on pc.s = i.store_id::text and pc.pid = i.product_id::text
        where ${this.store('i')} and ${this.inPeriod('o')} and not ${this.cancelled('o')}
          and ${price} is not null
        group by 1
      )
      select coalesce((select sum(rev) from cat), 0)::float8 as total,
        coalesce((select sum(rev) from cat where category is not null), 0)::float8 as categorised,
        coalesce((select sum(rev) from (select rev from cat where category is not null
          order by rev desc limit 3) t), 0)::float8 as top3,
        (select category from cat where category is not null and rev > 0
          order by rev desc, category limit 1) as main`);
    const r = resultRows<Record<string, unknown>>(res)[0] ?? {};
    return {
      total: num(r.total) ?? 0,
      categorised: num(r.categorised) ?? 0,
      top3: num(r.top3) ?? 0,
      main: typeof r.main === 'string' ? r.main : null,
    };
  }
}

/**
 * The latest local `metric` of the latest version of the known model of `kind`. Should the node
 * know several models of one kind, the one measured most recently is taken.
 */
async function latestMetric(
  tx: Tx,
  kind: ModelKind,
  metric: string,
): Promise<number | { reason: string }> {
  const [newest] = await tx
    .select({ modelId: localMetrics.modelId })
    .from(localMetrics)
    .innerJoin(knownModels, eq(knownModels.modelId, localMetrics.modelId))
    .where(and(eq(knownModels.kind, kind), eq(localMetrics.name, metric)))
    .orderBy(desc(localMetrics.createdAt), desc(localMetrics.id))
    .limit(1);
  if (newest === undefined) {
    const [known] = await tx
      .select({ modelId: knownModels.modelId })
      .from(knownModels)
      .where(eq(knownModels.kind, kind))
      .limit(1);
    return {
      reason:
        known === undefined
          ? `The node knows no ${kind} model.`
          : `The ${kind} model has no ${metric} measured on this shop’s data yet.`,
    };
  }
  const [row] = await tx
    .select({ value: localMetrics.value })
    .from(localMetrics)
    .where(and(eq(localMetrics.modelId, newest.modelId), eq(localMetrics.name, metric)))
    .orderBy(
      sql`${localMetrics.version} desc nulls last`,
      desc(localMetrics.createdAt),
      desc(localMetrics.id),
    )
    .limit(1);
  return row !== undefined && Number.isFinite(row.value)
    ? row.value
    : { reason: `The ${kind} model’s latest ${metric} is not a finite number.` };
}

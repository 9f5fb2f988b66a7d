import { sql, type SQL } from 'drizzle-orm';
import { CoopNodeError } from '../errors';
import type { StoreDatabase } from './open';
import { resultRows } from './result';

/**
 * The relations the node reads (DESIGN §3): the canonical tables, or a shop's own views onto them.
 * Required columns must exist; optional columns may be missing (models that need one say so).
 */
export const STORE_RELATIONS = {
  stores: { required: ['store_id'], optional: ['currency'], requiredRelation: false },
  products: {
    required: ['store_id', 'product_id', 'catalog_key'],
    optional: ['category', 'price'],
    requiredRelation: true,
  },
  customers: {
    required: ['store_id', 'customer_id'],
    optional: ['created_at', 'country'],
    requiredRelation: true,
  },
  orders: {
    required: ['store_id', 'order_id', 'customer_id', 'created_at'],
    optional: [
      'status',
      'payment_method',
      'billing_country',
      'shipping_country',
      'total',
      'risk_level',
    ],
    requiredRelation: true,
  },
  orderItems: {
    required: ['store_id', 'order_id', 'product_id', 'quantity'],
    optional: ['unit_price'],
    requiredRelation: true,
  },
  fraudLabels: {
    required: ['store_id', 'order_id', 'is_fraud'],
    optional: [],
    requiredRelation: false,
  },
  dailySales: {
    required: ['store_id', 'date', 'catalog_key', 'units'],
    optional: ['revenue', 'open', 'promo', 'holiday'],
    requiredRelation: false,
  },
} as const satisfies Record<
  string,
  { required: readonly string[]; optional: readonly string[]; requiredRelation: boolean }
>;

export type StoreRelation = keyof typeof STORE_RELATIONS;

/**
 * Relation names (tables or views, optionally `schema.name`) the node reads, from the node
 * config. `null` for an optional relation the shop does not have (stores, fraud labels, daily
 * sales).
 */
export type StoreViews = {
  [K in StoreRelation]: (typeof STORE_RELATIONS)[K]['requiredRelation'] extends true
    ? string
    : string | null;
};

/** The canonical tables, used when the shop imports into them or the config names nothing. */
export const DEFAULT_STORE_VIEWS: StoreViews = {
  stores: 'shop.stores',
  products: 'shop.products',
  customers: 'shop.customers',
  orders: 'shop.orders',
  orderItems: 'shop.order_items',
  fraudLabels: 'shop.fraud_labels',
  dailySales: 'shop.daily_sales',
};

/** What {@link checkStoreSource} found: for each relation present, the optional columns it has. */
export type StoreSourceCheck = {
  [K in StoreRelation]: { readonly relation: string; readonly optional: readonly string[] } | null;
};

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** Splits and validates `name` or `schema.name`; quoted, it is safe to splice into SQL. */
function quoteRelation(name: string, key: string): SQL {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new CoopNodeError(
      'InvalidConfig',
      `store view for ${key} must be "name" or "schema.name" of letters, digits and _`,
    );
  }
  return sql.raw(parts.map((p) => `"${p}"`).join('.'));
}

/**
 * Verifies that every configured relation exists and has the required columns, so a wrong view
 * fails at start-up with a message naming the relation or column rather than deep inside
 * training. Views and tables are both found (through `pg_attribute`), in any schema.
 *
 * @throws CoopNodeError `StoreSchemaMismatch` naming the missing relation or column;
 *   `InvalidConfig` for a malformed name.
 * @example
 * const found = await checkStoreSource(db, { ...DEFAULT_STORE_VIEWS, orders: 'public.my_orders' });
 * if (!found.orders?.optional.includes('total')) log.info('order totals unavailable');
 */
export async function checkStoreSource(
  db: StoreDatabase,
  views: Partial<StoreViews> = {},
): Promise<StoreSourceCheck> {
  const config: StoreViews = { ...DEFAULT_STORE_VIEWS, ...views };
  const out: Partial<Record<StoreRelation, StoreSourceCheck[StoreRelation]>> = {};
  for (const key of Object.keys(STORE_RELATIONS) as StoreRelation[]) {
    const spec = STORE_RELATIONS[key];
    const name = config[key];
    if (name === null) {
      if (spec.requiredRelation) {
        throw new CoopNodeError('InvalidConfig', `store view for ${key} is required`);
      }
      out[key] = null;
      continue;
    }
    quoteRelation(name, key);
    const found = resultRows<{ oid: number | string | null }>(
      await db.execute(sql`select to_regclass(${name})::oid as oid`),
    )[0];
    if (found?.oid === null || found?.oid === undefined) {
      throw new CoopNodeError(
        'StoreSchemaMismatch',
        `relation "${name}" (${key}) does not exist in the store database`,
      );
    }
    const cols = new Set(
      resultRows<{ attname: string }>(
        await db.execute(
          sql`select attname::text as attname from pg_attribute where attrelid = ${Number(found.oid)}::oid and attnum > 0 and not attisdropped`,
        ),
      ).map((r) => r.attname),
    );
    const missing = spec.required.filter((c) => !cols.has(c));
    if (missing.length > 0) {
      throw new CoopNodeError(
        'StoreSchemaMismatch',
        `relation "${name}" (${key}) lacks required column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}`,
      );
    }
    out[key] = { relation: name, optional: spec.optional.filter((c) => cols.has(c)) };
  }
  return out as StoreSourceCheck;
}

/**
 * Read-only access to the shop's data through the configured views. Every read runs in a
 * `read only` transaction, so not even a bug can make the node write to the shop's tables.
 *
 * @example
 * const source = await StoreSource.open(db, config.views);
 * const n = await source.count('orders');
 * const page = await source.read('orderItems', { limit: 1000, offset: 0 });
 */
export class StoreSource {
  private constructor(
    private readonly db: StoreDatabase,
    /** The relations found at open, with their optional columns. */
    readonly found: StoreSourceCheck,
  ) {}

  /** Checks the views ({@link checkStoreSource}) and returns a source reading through them. */
  static async open(db: StoreDatabase, views: Partial<StoreViews> = {}): Promise<StoreSource> {
    return new StoreSource(db, await checkStoreSource(db, views));
  }

  /** Whether `relation` is configured and has column `column` (required columns always do). */
  has(relation: StoreRelation, column?: string): boolean {
    const f = this.found[relation];
    if (f === null) return false;
    if (column === undefined) return true;
    return (
      (STORE_RELATIONS[relation].required as readonly string[]).includes(column) ||
      f.optional.includes(column)
    );
  }

  /** Number of rows in `relation` (0 for an optional relation that is not configured). */
  async count(relation: StoreRelation): Promise<number> {
    const f = this.found[relation];
    if (f === null) return 0;
    const from = quoteRelation(f.relation, relation);
    const rows = await this.readOnly((tx) =>
      tx.execute(sql`select count(*)::int as n from ${from}`),
    );
    return Number(resultRows<{ n: number }>(rows)[0]?.n ?? 0);
  }

  /**
   * A page of `relation`'s rows with the canonical column names (required and present optional
   * columns), ordered by the required columns so that pages are stable.
   */
  async read(
    relation: StoreRelation,
    page: { limit: number; offset: number },
  ): Promise<Record<string, unknown>[]> {
    if (!Number.isSafeInteger(page.limit) || page.limit < 1 || page.limit > 1_000_000) {
      throw new CoopNodeError('InvalidArgument', 'limit must be an integer in [1, 1000000]');
    }
    if (!Number.isSafeInteger(page.offset) || page.offset < 0) {
      throw new CoopNodeError('InvalidArgument', 'offset must be a non-negative integer');
    }
    const f = this.found[relation];
    if (f === null) return [];
    const spec = STORE_RELATIONS[relation];
    const from = quoteRelation(f.relation, relation);
    const cols = [...spec.required, ...f.optional].map((c) => `"${c}"`).join(', ');
    const order = spec.required.map((c) => `"${c}"`).join(', ');
    const res = await this.readOnly((tx) =>
      tx.execute(
        sql`select ${sql.raw(cols)} from ${from} order by ${sql.raw(order)} limit ${page.limit} offset ${page.offset}`,
      ),
    );
    return resultRows<Record<string, unknown>>(res);
  }

  private readOnly<T>(
    fn: (tx: Parameters<Parameters<StoreDatabase['transaction']>[0]>[0]) => Promise<T>,
  ) {
    return this.db.transaction(fn, { accessMode: 'read only' });
  }
}

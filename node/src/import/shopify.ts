import { basename } from 'node:path';
import { CoopNodeError } from '../errors';
import type { StoreDatabase } from '../store/open';
import {
  customers,
  orderItems,
  orders,
  products,
  stores,
  type NewCustomer,
  type NewOrder,
  type NewOrderItem,
  type NewProduct,
} from '../store/schema';
import { CsvSyntaxError, openCsv, type CsvRecord } from './csv';
import { formatIssues } from './fields';
import { checkHashKey, nameCatalogKey, normalizeEmail, pseudonym } from './hash';
import {
  recordImportRun,
  type ImportFileReport,
  type ImportProgress,
  type ImportReport,
} from './report';
import {
  SHOPIFY_REQUIRED_COLUMNS,
  shopifyItemSchema,
  shopifyOrderSchema,
  shopifyStatus,
} from './shopify-rows';
import { upsertRows } from './upsert';

/** Options of {@link importShopify}. */
export interface ImportShopifyOptions {
  /** The `store_id` the shop's rows get (an export holds one shop). */
  readonly storeId: string;
  /** The node's pseudonymisation secret (≥ 32 bytes): customer ids are keyed hashes of e-mails. */
  readonly hashKey: Uint8Array;
  /** Called after each batch and at the end with the rows read so far. */
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Orders per upsert transaction (default 200). */
  readonly batchSize?: number;
}

interface PendingOrder {
  readonly name: string;
  readonly line: number;
  /** The order row, or why the order was rejected (its other rows are rejected with it). */
  readonly order: NewOrder | { rejectedAt: number };
  readonly customer: NewCustomer | null;
  readonly items: Map<string, { quantity: number; amount: number; priced: boolean }>;
  readonly products: Map<string, NewProduct>;
  readonly currency: string | undefined;
}

/**
 * Imports Shopify's standard orders export (one row per line item) into the canonical tables.
 *
 * Mapping (DESIGN §3):
 * - `order_id` = `Id` (Shopify's numeric id), or `Name` (`#1001`) when the export has no `Id`.
 * - `customer_id` = keyed hash (HMAC-SHA256 under `hashKey`, hex) of the trimmed, lower-cased
 *   `Email`; e-mail addresses and names are never stored. An order without e-mail (a POS sale)
 *   gets a one-off id hashed from its order id, and a warning.
 * - `product_id` = `catalog_key` = `Lineitem sku`; a blank SKU falls back to a hash of
 *   `Lineitem name` (`name:…`) with a warning. Several lines of the same product in one order are
 *   merged: quantities add up, `unit_price` is the quantity-weighted mean.
 * - `status` from `Financial Status` and `Cancelled at` (see {@link shopifyStatus}).
 * - `Risk Level` goes to `orders.risk_level` as a weak feature, never to `fraud_labels`, which
 *   holds confirmed outcomes only.
 * - `customers.country` = billing (else shipping) country; `stores.currency` = `Currency`.
 *
 * A malformed line item (e.g. a bad quantity) is rejected alone and its order kept; a malformed
 * order-level field rejects the order with all its rows. Re-importing the same export changes
 * nothing.
 *
 * @throws CoopNodeError `ImportFailed` when the file is unreadable or is not an orders export;
 *   `InvalidArgument` for bad options.
 * @example
 * const report = await importShopify(db, './orders_export.csv', { storeId: 'shop-a', hashKey });
 * console.log(report.rowsImported, report.rejected, report.warnings);
 */
export async function importShopify(
  db: StoreDatabase,
  file: string,
  options: ImportShopifyOptions,
): Promise<ImportReport> {
  const { storeId, hashKey, onProgress, batchSize = 200 } = options;
  checkHashKey(hashKey);
  if (typeof storeId !== 'string' || storeId.trim() === '' || storeId.length > 200) {
    throw new CoopNodeError('InvalidArgument', 'storeId must be a non-empty string');
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new CoopNodeError('InvalidArgument', 'batchSize must be a positive integer');
  }
  const fileName = basename(file);
  let csv;
  try {
    csv = await openCsv(file);
  } catch (cause) {
    throw new CoopNodeError('ImportFailed', `cannot read ${fileName}`, { cause });
  }
  const header = csv?.header ?? [];
  const missing: string[] = SHOPIFY_REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (!header.includes('Lineitem sku') && !header.includes('Lineitem name')) {
    missing.push('Lineitem sku');
  }
  if (csv === null || missing.length > 0) {
    throw new CoopNodeError(
      'ImportFailed',
      `${fileName} is not a Shopify orders export: header lacks ${missing.map((c) => `"${c}"`).join(', ')}`,
    );
  }
  const records = csv.records;

  return recordImportRun(db, 'shopify', async () => {
    const report: ImportFileReport = {
      file: fileName,
      present: true,
      read: 0,
      imported: 0,
      rejected: 0,
    };
    const rejected: string[] = [];
    const warnings: string[] = [];
    const at = (line: number, what: string) => `${fileName}:${line}: ${what}`;
    const reject = (line: number, reason: string) => {
      report.rejected++;
      rejected.push(at(line, reason));
    };
    const tell = () =>
      onProgress?.({ file: fileName, fileRowsRead: report.read, rowsRead: report.read });

    const seen = new Set<string>();
    let current: PendingOrder | undefined;
    let batch: PendingOrder[] = [];
    /** Rows of the pending batch that will count as imported when it is written. */
    let batchRows = 0;

    const flush = async () => {
      if (batch.length === 0) return;
      const done = batch;
      const rows = batchRows;
      batch = [];
      batchRows = 0;
      const kept = done.filter(
        (o): o is PendingOrder & { order: NewOrder } => !('rejectedAt' in o.order),
      );
      const currency = kept.findLast((o) => o.currency !== undefined)?.currency;
      await db.transaction(async (tx) => {
        if (currency === undefined) {
          await tx.insert(stores).values({ storeId }).onConflictDoNothing();
        } else {
          await upsertRows(tx, stores, [{ storeId, currency }]);
        }
        await upsertRows(
          tx,
          products,
          kept.flatMap((o) => [...o.products.values()]),
        );
        await upsertRows(
          tx,
          customers,
          kept.flatMap((o) => (o.customer ? [o.customer] : [])),
        );
        await upsertRows(
          tx,
          orders,
          kept.map((o) => o.order),
        );
        await upsertRows(
          tx,
          orderItems,
          kept.flatMap((o) =>
            [...o.items].map(([productId, it]): NewOrderItem => ({
              storeId,
              orderId: o.order.orderId,
              productId,
              quantity: it.quantity,
              unitPrice: it.priced ? Math.round((it.amount / it.quantity) * 1e4) / 1e4 : null,
            })),
          ),
        );
      });
      report.imported += rows;
      tell();
    };

    const startOrder = (name: string, rec: CsvRecord): PendingOrder => {
      const base = { name, line: rec.line, items: new Map(), products: new Map() };
      const parsed = shopifyOrderSchema.safeParse(rec.fields);
      if (!parsed.success) {
        reject(rec.line, formatIssues(parsed.error));
        return { ...base, order: { rejectedAt: rec.line }, customer: null, currency: undefined };
      }
      const o = parsed.data;
      const orderId = o.Id ?? o.Name;
      let customerId: string;
      if (o.Email === undefined) {
        customerId = pseudonym(hashKey, `shopify-order:${orderId}`);
        warnings.push(at(rec.line, 'Email: blank; the order gets a one-off customer id'));
      } else {
        customerId = pseudonym(hashKey, normalizeEmail(o.Email));
      }
      const country = o['Billing Country'] ?? o['Shipping Country'] ?? null;
      return {
        ...base,
        currency: o.Currency?.toUpperCase(),
        customer: { storeId, customerId, createdAt: null, country },
        order: {
          storeId,
          orderId,
          customerId,
          createdAt: o['Created at'],
          status: shopifyStatus(o['Financial Status'], o['Cancelled at'] !== undefined),
          paymentMethod: o['Payment Method'] ?? null,
          billingCountry: o['Billing Country'] ?? null,
          shippingCountry: o['Shipping Country'] ?? null,
          total: o.Total ?? null,
          riskLevel: o['Risk Level'] ?? null,
        },
      };
    };

    const addItem = (order: PendingOrder, rec: CsvRecord) => {
      if ('rejectedAt' in order.order) {
        // The order's first row was reported with the reason; its other rows point there.
        if (order.order.rejectedAt === rec.line) return;
        return reject(rec.line, `order rejected at line ${order.order.rejectedAt}`);
      }
      const parsed = shopifyItemSchema.safeParse(rec.fields);
      if (!parsed.success) return reject(rec.line, formatIssues(parsed.error));
      const it = parsed.data;
      let key = it['Lineitem sku'];
      if (key === undefined) {
        if (it['Lineitem name'] === undefined) {
          return reject(rec.line, 'Lineitem sku: blank, and Lineitem name blank too');
        }
        key = nameCatalogKey(it['Lineitem name']);
        warnings.push(
          at(rec.line, 'Lineitem sku: blank; catalog_key derived from a hash of Lineitem name'),
        );
      }
      const price = it['Lineitem price'];
      order.products.set(key, {
        storeId,
        productId: key,
        catalogKey: key,
        category: null,
        price: price ?? null,
      });
      const prev = order.items.get(key) ?? { quantity: 0, amount: 0, priced: true };
      order.items.set(key, {
        quantity: prev.quantity + it['Lineitem quantity'],
        amount: prev.amount + (price ?? 0) * it['Lineitem quantity'],
        priced: prev.priced && price !== undefined,
      });
      batchRows++;
    };

    try {
      for await (const rec of records) {
        report.read++;
        const name = rec.fields['Name']?.trim() ?? '';
        if (name === '') {
          reject(rec.line, 'Name: is missing or blank');
          continue;
        }
        if (current?.name !== name) {
          if (current !== undefined) {
            batch.push(current);
            if (batch.length >= batchSize) await flush();
          }
          current = undefined;
          if (seen.has(name)) {
            reject(rec.line, 'Name: rows of this order are not consecutive; row skipped');
            continue;
          }
          seen.add(name);
          current = startOrder(name, rec);
        }
        addItem(current, rec);
      }
    } catch (err) {
      if (!(err instanceof CsvSyntaxError)) throw err;
      report.read++;
      reject(err.line, `${err.reason}; the rest of the file was not read`);
    }
    if (current !== undefined) batch.push(current);
    await flush();
    tell();
    return { files: [report], rejected, warnings };
  });
}

import type { StoreDatabase } from '../store/open';
import { stores } from '../store/schema';

/** Makes sure a `shop.stores` row exists for every id, leaving existing rows as they are. */
export async function ensureStores(
  db: Pick<StoreDatabase, 'insert'>,
  storeIds: Iterable<string>,
): Promise<void> {
  const values = [...new Set(storeIds)].map((storeId) => ({ storeId }));
  if (values.length > 0) await db.insert(stores).values(values).onConflictDoNothing();
}

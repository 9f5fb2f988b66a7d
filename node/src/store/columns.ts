import { numeric } from 'drizzle-orm/pg-core';

export { bytea, createdAt, oneOf, timestamptz, toBytes } from '@coopfl/storage';

/**
 * A money or price column: exact `numeric(14, 4)` in the database, a JS number in code (shop
 * amounts fit a double exactly enough for training features; sums are done in SQL).
 */
export const money = (name: string) => numeric(name, { precision: 14, scale: 4, mode: 'number' });

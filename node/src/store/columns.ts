import { sql, type SQL } from 'drizzle-orm';
import { customType, numeric, timestamp, type AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * Column helpers shared by the node's tables; the same conventions as the coordinator's
 * `db/columns.ts` (duplicated on purpose: the node does not depend on the coordinator package).
 */

/**
 * Normalises a driver's `bytea` value to a `Uint8Array` that owns its bytes: postgres.js returns a
 * `Buffer` (often a view into Node's shared pool), PGlite a `Uint8Array`, a text path `\x…` hex.
 */
export function toBytes(value: Uint8Array | string): Uint8Array {
  if (typeof value === 'string') {
    if (!value.startsWith('\\x')) {
      throw new TypeError('bytea value from the driver is text but not in hex format');
    }
    return Uint8Array.from(Buffer.from(value.slice(2), 'hex'));
  }
  if (Buffer.isBuffer(value)) return Uint8Array.from(value);
  return value;
}

/** A `bytea` column typed as `Uint8Array` on both drivers. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array | string }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => toBytes(value),
});

/** A `timestamptz` column read as a `Date`; nullable unless the caller adds `.notNull()`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `created_at timestamptz not null default now()`. */
export const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/**
 * A money or price column: exact `numeric(14, 4)` in the database, a JS number in code (shop
 * amounts fit a double exactly enough for training features; sums are done in SQL).
 */
export const money = (name: string) => numeric(name, { precision: 14, scale: 4, mode: 'number' });

/**
 * A CHECK expression `column in ('a', 'b', …)` for a closed set of text values, inlined as
 * literals because drizzle-kit writes CHECK constraints into migrations as SQL text.
 */
export function oneOf(column: AnyPgColumn, values: readonly string[]): SQL {
  for (const v of values) {
    if (!/^[a-z_]+$/.test(v)) throw new TypeError(`enum value "${v}" is not a plain identifier`);
  }
  return sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(', '))})`;
}

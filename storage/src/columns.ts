import { sql, type SQL } from 'drizzle-orm';
import { customType, timestamp, type AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * Normalises what a driver returns for a `bytea` value to a plain `Uint8Array` that owns its
 * bytes. postgres.js returns a `Buffer` (often a view into Node's shared 8 KiB pool, whose
 * `.buffer` exposes unrelated memory), PGlite returns a `Uint8Array`, and a value that came through
 * a text path arrives as Postgres hex (`\x0102…`).
 */
export function toBytes(value: Uint8Array | string): Uint8Array {
  if (typeof value === 'string') {
    if (!value.startsWith('\\x')) {
      throw new TypeError('bytea value from the driver is text but not in hex format');
    }
    return Uint8Array.from(Buffer.from(value.slice(2), 'hex'));
  }
  if (Buffer.isBuffer(value)) {
    const ownsWholeBuffer = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
    return ownsWholeBuffer
      ? new Uint8Array(value.buffer, 0, value.byteLength)
      : Uint8Array.from(value);
  }
  return value;
}

/**
 * A `bytea` column typed as `Uint8Array` on both drivers, so code that reads weights, keys or
 * token hashes never sees a `Buffer` on one database and a `Uint8Array` on the other.
 *
 * @example
 * const t = pgTable('blobs', { data: bytea('data').notNull() });
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array | string }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => toBytes(value),
});

/** A `timestamptz` column read as a `Date`; nullable unless the caller adds `.notNull()`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `created_at timestamptz not null default now()`, the same on every table. */
export const createdAt = () => timestamptz('created_at').notNull().defaultNow();

/**
 * A CHECK expression `column in ('a', 'b', …)` for a closed set of text values. The values are
 * compile-time constants of this module, inlined as literals because drizzle-kit writes CHECK
 * constraints into migrations as SQL text (a bound parameter would not survive).
 */
export function oneOf(column: AnyPgColumn, values: readonly string[]): SQL {
  for (const v of values) {
    if (!/^[a-z_]+$/.test(v)) throw new TypeError(`enum value "${v}" is not a plain identifier`);
  }
  return sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(', '))})`;
}

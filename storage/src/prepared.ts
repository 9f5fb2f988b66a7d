import type { Sql } from 'postgres';

type Unsafe = Sql['unsafe'];
type Begin = (...args: unknown[]) => Promise<unknown>;
type Callback = (sql: Sql) => unknown;

/**
 * A postgres.js client on which every query runs as a named prepared statement.
 *
 * Why: drizzle calls `client.unsafe(query, params, { prepare: false })` for every query it did not
 * name with `.prepare()`, and postgres.js runs an unnamed statement with parameters in two round
 * trips (Parse + Describe, wait for the parameter types, then Bind + Execute). A named statement
 * is described once per connection and cached there, after which each query is one round trip —
 * half the socket writes and wake-ups, which dominated the coordinator's database cost in
 * `bench round` (≈ 900 writes for 50 members' round). The cache is keyed by the SQL text and its
 * parameter types and lives as long as the connection (postgres.js recycles connections after
 * `max_lifetime`), so query shapes that vary (multi-row inserts) stay bounded.
 *
 * Transactions and savepoints hand drizzle a new client; those are wrapped too.
 *
 * @example
 * const db = drizzle({ client: preparedStatements(postgres(url)), schema });
 */
export function preparedStatements(sql: Sql): Sql {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        const unsafe: Unsafe = (query, params, options) =>
          target.unsafe(query, params, { ...options, prepare: true });
        return unsafe;
      }
      if (prop === 'begin' || prop === 'savepoint') {
        const original = Reflect.get(target, prop, receiver) as Begin;
        return (...args: unknown[]) => {
          const callback = args.pop() as Callback;
          return original.call(target, ...args, (tx: Sql) => callback(preparedStatements(tx)));
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

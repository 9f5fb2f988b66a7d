import type { PGlite, QueryOptions, Results, Transaction, messages } from '@electric-sql/pglite';
import { protocol } from '@electric-sql/pglite';

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];
type Field = { name: string; dataTypeID: number };
type Handler = (value: string, typeId: number) => unknown;

interface Statement {
  readonly name: string;
  /** Parameter type OIDs, which choose each parameter's serializer. */
  readonly paramTypes: readonly number[];
  /** Result columns, or none for a statement without rows (NoData). */
  readonly fields: readonly Field[];
}

export interface PglitePreparedOptions {
  /** Named statements kept open at most; the least recently used is closed beyond it. */
  maxStatements?: number;
}

const { serialize } = protocol;
const BYTEA_OID = 17;
/** Tells apart the statement names of several wrappers over one client. */
let wrappers = 0;

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** PGlite's own query errors carry the statement and its parameters; ours do too. */
function withQuery(err: unknown, query: string, params: unknown[], options?: QueryOptions) {
  if (typeof err === 'object' && err !== null && 'code' in err)
    Object.assign(err, { query, params, queryOptions: options });
  return err;
}

/**
 * A PGlite client on which `query` (and `query` inside `transaction`) runs each SQL text as a
 * named prepared statement: parsed, planned and described once, then each execution is one
 * Bind + Execute + Sync message handed to the embedded server in one call.
 *
 * Why: PGlite's `query` sends Parse, Describe, Bind, Describe, Execute and Sync as six separate
 * calls into its WebAssembly Postgres, parsing and planning the statement anew each time, and
 * then merges its ~320 default type parsers into a fresh object for every result. In `bench
 * round` that was most of the coordinator's time on PGlite (≈ 1 ms per statement); this path
 * takes about a quarter of it. Semantics are PGlite's own: the same locks (a statement waits for
 * a running transaction, statements inside one share it), the same serializers and parsers
 * chosen by type OID (except that a `bytea` parameter given as bytes is sent as such, in binary
 * format, rather than hex-encoded and decoded again), the same result shape, errors (a
 * `DatabaseError` with its SQLSTATE) and file-system sync after a statement outside a
 * transaction. Options this path does not handle (`blob`, `paramTypes`, `onNotice`) fall back to
 * PGlite's own `query`.
 *
 * Statement names are per client; `maxStatements` (default 500) bounds them, closing the least
 * recently used, so query shapes that vary (n-row VALUES lists) do not pile up.
 *
 * @example
 * const db = drizzle({ client: preparedPglite(await PGlite.create(dir)), schema });
 */
export function preparedPglite(client: PGlite, o: PglitePreparedOptions = {}): PGlite {
  const max = o.maxStatements ?? 500;
  /** By SQL text, least recently used first (Map keeps insertion order). */
  const statements = new Map<string, Statement>();
  const prefix = `coopfl_s${++wrappers}_`;
  let counter = 0;

  const exec = async (parts: Uint8Array[]): Promise<BackendMessage[]> =>
    (await client.execProtocol(concat(parts), { syncToFs: false })).messages;

  async function prepare(text: string): Promise<Statement> {
    const known = statements.get(text);
    if (known) {
      statements.delete(text);
      statements.set(text, known);
      return known;
    }
    if (statements.size >= max) {
      const [oldText, old] = statements.entries().next().value!;
      statements.delete(oldText);
      await exec([serialize.close({ type: 'S', name: old.name }), serialize.sync()]);
    }
    const name = `${prefix}${++counter}`;
    const messages = await exec([
      serialize.parse({ name, text }),
      serialize.describe({ type: 'S', name }),
      serialize.sync(),
    ]);
    let paramTypes: readonly number[] = [];
    let fields: readonly Field[] = [];
    for (const m of messages) {
      if (m.name === 'parameterDescription')
        paramTypes = (m as messages.ParameterDescriptionMessage).dataTypeIDs;
      else if (m.name === 'rowDescription')
        fields = (m as messages.RowDescriptionMessage).fields.map((f) => ({
          name: f.name,
          dataTypeID: f.dataTypeID,
        }));
    }
    const st: Statement = { name, paramTypes, fields };
    statements.set(text, st);
    return st;
  }

  async function run<T>(
    text: string,
    params: unknown[],
    options: QueryOptions | undefined,
    inTransaction: boolean,
    retried = false,
  ): Promise<Results<T>> {
    let messages: BackendMessage[];
    let st: Statement;
    try {
      st = await prepare(text);
      const values = params.map((p, i) => {
        if (p === null || p === undefined) return null;
        const oid = st.paramTypes[i]!;
        const own = options?.serializers?.[oid];
        // Bytes for a bytea parameter go in binary format: the same value without a hex round trip.
        if (oid === BYTEA_OID && !own && p instanceof Uint8Array) return p;
        const s = own ?? client.serializers[oid];
        return s ? s(p) : (p as { toString(): string }).toString();
      });
      messages = await exec([
        serialize.bind({ statement: st.name, values }),
        serialize.execute({}),
        serialize.sync(),
      ]);
    } catch (err) {
      // The server no longer has the statement, or its result type changed under it (DISCARD,
      // DDL): forget it; outside a transaction, where nothing was aborted, prepare it again.
      const code = (err as { code?: unknown }).code;
      if (statements.has(text) && (code === '26000' || code === '0A000')) {
        statements.delete(text);
        if (!inTransaction && !retried) return run<T>(text, params, options, false, true);
      }
      throw withQuery(err, text, params, options);
    }
    if (!inTransaction) await client.syncToFs();
    return toResults<T>(messages, st.fields, client.parsers, options);
  }

  const query = async <T>(text: string, params: unknown[] = [], options?: QueryOptions) => {
    if (options?.blob || options?.paramTypes || options?.onNotice)
      return client.query<T>(text, params, options);
    await client._checkReady();
    return client._runExclusiveTransaction(() =>
      client._runExclusiveQuery(() => run<T>(text, params, options, false)),
    );
  };

  const wrapTransaction = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
        return <T>(text: string, params: unknown[] = [], options?: QueryOptions) =>
          target.closed || options?.blob || options?.paramTypes || options?.onNotice
            ? target.query<T>(text, params, options)
            : client._runExclusiveQuery(() => run<T>(text, params, options, true));
      },
    });

  const transaction = <T>(callback: (tx: Transaction) => Promise<T>) =>
    client.transaction((tx) => callback(wrapTransaction(tx)));

  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') return query;
      if (prop === 'transaction') return transaction;
      // PGlite keeps its state in private fields: its methods must run on the instance itself.
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** PGlite's result shape (`parseResults` for one statement), parsers looked up per column once. */
function toResults<T>(
  messages: BackendMessage[],
  fields: readonly Field[],
  defaults: Record<number, Handler>,
  options: QueryOptions | undefined,
): Results<T> {
  const handlers = fields.map(
    (f) => (options?.parsers?.[f.dataTypeID] ?? defaults[f.dataTypeID]) as Handler | undefined,
  );
  const arrayMode = options?.rowMode === 'array';
  const rows: unknown[] = [];
  let affectedRows = 0;
  let rowCount: number | undefined;
  let command: string | undefined;
  for (const m of messages) {
    if (m.name === 'dataRow') {
      const values = (m as messages.DataRowMessage).fields.map((v, i) => {
        if (v === null) return null;
        const h = handlers[i];
        return h ? h(v, fields[i]!.dataTypeID) : v;
      });
      rows.push(arrayMode ? values : Object.fromEntries(fields.map((f, i) => [f.name, values[i]])));
    } else if (m.name === 'commandComplete') {
      const parts = (m as messages.CommandCompleteMessage).text.split(' ');
      const n = parseInt(parts[parts.length - 1]!, 10);
      command = parts[0]!;
      if (['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE'].includes(command)) affectedRows += n;
      if (!Number.isNaN(n)) rowCount = n;
    }
  }
  return {
    rows,
    fields: fields.map((f) => ({ ...f })),
    affectedRows,
    ...(command !== undefined ? { command } : {}),
    ...(rowCount !== undefined ? { rowCount } : {}),
  } as Results<T>;
}

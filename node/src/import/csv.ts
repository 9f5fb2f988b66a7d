import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';

/** One data record of a CSV file, by header name, with the line it starts on (1-based). */
export interface CsvRecord {
  readonly line: number;
  /** Fields by (trimmed) header name; `undefined` when the record is shorter than the header. */
  readonly fields: Readonly<Record<string, string | undefined>>;
}

/** A CSV file's header and a stream of its data records. */
export interface CsvFile {
  readonly header: readonly string[];
  readonly records: AsyncGenerator<CsvRecord>;
}

/** Thrown (by iteration) when the file is not valid CSV past some point. */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/**
 * Turns CRLF into LF so that csv-parse's line counter (which counts `\r` and `\n` separately)
 * matches what an editor shows. Embedded CRLF in quoted fields become LF too.
 */
class NormalizeNewlines extends Transform {
  private pendingCr = false;
  constructor() {
    super({ decodeStrings: false, encoding: 'utf8' });
  }
  override _transform(chunk: string | Buffer, _enc: BufferEncoding, done: TransformCallback) {
    let s = (this.pendingCr ? '\r' : '') + (typeof chunk === 'string' ? chunk : chunk.toString());
    this.pendingCr = s.endsWith('\r');
    if (this.pendingCr) s = s.slice(0, -1);
    done(null, s.replace(/\r\n/g, '\n'));
  }
  override _flush(done: TransformCallback) {
    done(null, this.pendingCr ? '\r' : '');
  }
}

const countBreaks = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) n++;
  }
  return n;
};

/**
 * Streams a CSV file with a header row through csv-parse (RFC 4180 quoting, so fields may hold
 * delimiters, quotes and newlines). Each record carries the line it *starts* on, for reports.
 * Empty lines are skipped; a UTF-8 BOM is dropped; header names are trimmed.
 *
 * @returns `null` for an empty file (no header).
 * @example
 * const csv = await openCsv('orders.csv');
 * for await (const { line, fields } of csv?.records ?? []) console.log(line, fields['order_id']);
 */
export async function openCsv(path: string): Promise<CsvFile | null> {
  const parser = createReadStream(path, { encoding: 'utf8' })
    .pipe(new NormalizeNewlines())
    .pipe(
      parse({
        bom: true,
        info: true,
        skip_empty_lines: true,
        relax_column_count: true,
      }),
    );
  const it = parser[Symbol.asyncIterator]() as AsyncIterator<{
    record: string[];
    info: { lines: number };
  }>;
  const next = async () => {
    try {
      return await it.next();
    } catch (err) {
      if (err instanceof CsvError) {
        throw new CsvSyntaxError(parser.info.lines, `CSV syntax error (${err.code})`);
      }
      throw err;
    }
  };
  const first = await next();
  if (first.done) return null;
  const header = first.value.record.map((h) => h.trim());
  async function* records(): AsyncGenerator<CsvRecord> {
    try {
      for (let r = await next(); !r.done; r = await next()) {
        const { record, info } = r.value;
        // csv-parse reports the line a record *ends* on; subtract the breaks inside its fields.
        const line = info.lines - record.reduce((n, f) => n + countBreaks(f), 0);
        const fields: Record<string, string | undefined> = {};
        header.forEach((h, i) => {
          fields[h] = record[i];
        });
        yield { line, fields };
      }
    } finally {
      parser.destroy();
    }
  }
  return { header, records: records() };
}

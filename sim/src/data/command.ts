import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import type { Command } from 'commander';
import { z } from 'zod';
import { writeCooperative } from '@coopfl/node/synth';
import { progressLine } from '../progress';
import { parseOptions } from '../usage';
import type { RetailRecord } from './online-retail';
import { convertOnlineRetail } from './online-retail';

const ConvertFlags = z.object({
  ukShops: z.coerce.number().int().min(1).max(100).default(4),
  minCustomers: z.coerce.number().int().min(1).default(10),
});

/** Streams a (gzipped or plain) CSV file as records with their line numbers. */
export async function* csvRecords(path: string): AsyncGenerator<RetailRecord> {
  const input = createReadStream(path);
  const parser = parse({ columns: true, bom: true, relax_column_count: true, info: true });
  (path.endsWith('.gz') ? input.pipe(createGunzip()) : input).pipe(parser);
  input.on('error', (err) => parser.destroy(err));
  for await (const r of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    yield { line: r.info.lines, fields: r.record };
  }
}

/**
 * Registers `data convert online-retail SRC DST`: the UCI Online Retail file (../shared/data) as a
 * cooperative in the canonical layout. Progress on stderr; a JSON report on stdout (lines read and
 * kept, skipped by reason, malformed lines with line numbers, shops with their sizes).
 */
export function registerConvertCommands(data: Command): void {
  const convert = data
    .command('convert')
    .description('convert public data sets to the canonical layout');
  convert
    .command('online-retail')
    .description(
      'UCI Online Retail (csv or csv.gz) → canonical CSV: shops by country, UK split by customer',
    )
    .argument('<src>', 'online_retail.csv.gz')
    .argument('<dst>', 'output directory')
    .option('--uk-shops <n>', 'shops the United Kingdom is split into (default 4)')
    .option('--min-customers <n>', 'smaller countries are pooled into shop-other (default 10)')
    .action(async (src: string, dst: string, raw: unknown) => {
      const flags = parseOptions(ConvertFlags, raw);
      const { tables, report } = await convertOnlineRetail(csvRecords(src), flags, (n) =>
        progressLine('convert: lines read', n, Math.max(n, 541_909)),
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      const rows = await writeCooperative(dst, tables);
      process.stdout.write(`${JSON.stringify({ src, out: dst, rows, ...report })}\n`);
    });
}

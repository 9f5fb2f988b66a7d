import { z } from 'zod';

/**
 * zod field parsers for CSV text, shared by the importers. Every message names what is wrong and
 * never echoes the value (a misplaced column could hold an e-mail address); the importer prefixes
 * the column name, giving report reasons such as `quantity: not a positive integer`.
 */

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const str = () =>
  z.string({
    error: (iss) => (iss.input === undefined ? 'is missing or blank' : 'is not text'),
  });

/** Required non-blank text, trimmed. */
export const requiredText = () =>
  z.preprocess(blankToUndefined, str().trim().max(1000, 'is longer than 1000 characters'));

/** Makes a field optional: a blank or absent value becomes `undefined`. */
export const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(blankToUndefined, schema.optional());

/** A decimal number ≥ 0 (prices, totals, amounts), e.g. `12`, `12.50`. */
export const nonNegativeDecimal = () =>
  str()
    .trim()
    .regex(/^\d+(\.\d+)?$/, 'not a non-negative decimal number')
    .transform(Number)
    .refine((n) => Number.isFinite(n) && n < 1e10, 'is out of range');

/** A whole number ≥ 1 (quantities). */
export const positiveInteger = () =>
  str()
    .trim()
    .regex(/^\d+$/, 'not a positive integer')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 2_147_483_647, 'not a positive integer');

const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date or date-time (`2024-03-01`, `2024-03-01T10:15:00+01:00`, `2024-03-01 10:15:00
 * -0500`); without a zone it is taken as UTC, so an import gives the same instants anywhere.
 */
export const timestampField = () =>
  str()
    .trim()
    .transform((s, ctx) => {
      const m = ISO_TIMESTAMP.exec(s);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'not an ISO 8601 date or date-time' });
        return z.NEVER;
      }
      const [, y, mo, d, h = '00', mi = '00', sec = '00', zone] = m;
      let tz = zone === undefined ? 'Z' : zone.toUpperCase();
      if (tz !== 'Z' && !tz.includes(':')) tz = `${tz.slice(0, 3)}:${tz.slice(3)}`;
      const frac = /\.(\d+)/.exec(s)?.[1]?.slice(0, 3) ?? '000';
      const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
      const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}.${frac}${tz}`);
      // Date rolls 2024-02-30 over into March instead of failing: compare the parts.
      if (
        day.getUTCMonth() !== Number(mo) - 1 ||
        day.getUTCDate() !== Number(d) ||
        Number.isNaN(date.getTime())
      ) {
        ctx.addIssue({ code: 'custom', message: 'not a valid calendar date and time' });
        return z.NEVER;
      }
      return date;
    });

/** A calendar date `YYYY-MM-DD`, kept as that string. */
export const dateField = () =>
  str()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'not a YYYY-MM-DD date')
    .refine((s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
    }, 'not a valid calendar date');

const TRUE = new Set(['true', 't', '1', 'yes', 'y']);
const FALSE = new Set(['false', 'f', '0', 'no', 'n']);

/** A boolean: true/false, t/f, 1/0, yes/no, y/n (any case). */
export const booleanField = () =>
  str()
    .trim()
    .transform((s, ctx) => {
      const v = s.toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      ctx.addIssue({ code: 'custom', message: 'not a boolean (true/false, 1/0, yes/no)' });
      return z.NEVER;
    });

/** A non-negative number (units sold may be fractional, e.g. kilograms). */
export const nonNegativeNumber = () =>
  str()
    .trim()
    .regex(/^\d+(\.\d+)?([eE][+-]?\d+)?$/, 'not a non-negative number')
    .transform(Number)
    .refine(Number.isFinite, 'is out of range');

/** The columns a zod object requires (those that do not accept `undefined`). */
export function requiredKeys(shape: Readonly<Record<string, z.core.$ZodType>>): string[] {
  return Object.entries(shape)
    .filter(([, s]) => !z.safeParse(s, undefined).success)
    .map(([k]) => k);
}

/** `column: message; column: message` for a failed parse, in column order. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

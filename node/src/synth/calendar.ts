/**
 * The shared calendar of a synthetic cooperative: dates, day-of-week and yearly seasonality, and
 * holidays. Shared across shops on purpose — these are the patterns pooling should learn.
 */

const DAY_MS = 86_400_000;

/** Shared day-of-week multipliers, indexed by `Date#getUTCDay()` (0 = Sunday). */
export const WEEKLY = [1.3, 1.1, 1.0, 1.0, 1.0, 0.85, 0.7] as const;

/** Legitimate orders by hour of day (UTC): quiet nights, lunch and evening peaks. */
export const HOUR_PROFILE = [
  0.3, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1.0, 1.1, 1.2, 1.4, 1.3, 1.1, 1.0, 1.0, 1.1, 1.3,
  1.6, 1.8, 1.7, 1.2, 0.6,
] as const;

/** Fraud orders by hour of day: flatter, heavier at night. */
export const FRAUD_HOUR_PROFILE = [
  1.4, 1.6, 1.7, 1.7, 1.5, 1.2, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9,
  1.0, 1.0, 1.1, 1.2, 1.3,
] as const;

/** One day of the simulated period. */
export interface Day {
  /** Index from the start date. */
  readonly index: number;
  /** YYYY-MM-DD. */
  readonly date: string;
  /** Midnight UTC in ms since the epoch. */
  readonly ms: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly dow: number;
  /** Day of the year, 0-based. */
  readonly doy: number;
  /** A named holiday (written to daily_sales.holiday). */
  readonly holiday: boolean;
  /** Shared demand multiplier: weekly × yearly × holiday and pre-holiday effects. */
  readonly demand: number;
}

/** Black Friday: the day after the fourth Thursday of November of `year`, as [month, day]. */
function blackFriday(year: number): number {
  const nov1 = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  const firstThursday = 1 + ((4 - nov1 + 7) % 7);
  return firstThursday + 21 + 1;
}

/** Holiday flag and multiplier of a date. */
function holidayEffect(d: Date): { holiday: boolean; factor: number } {
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  const bf = blackFriday(d.getUTCFullYear());
  if (m === 0 && day === 1) return { holiday: true, factor: 0.5 };
  if (m === 4 && day === 1) return { holiday: true, factor: 0.8 };
  if (m === 10 && day === bf) return { holiday: true, factor: 2.6 };
  if (m === 10 && day === bf + 3) return { holiday: true, factor: 2.0 };
  if (m === 11 && day === bf + 3 - 30) return { holiday: true, factor: 2.0 }; // Cyber Monday in Dec
  if (m === 11 && day === 24) return { holiday: true, factor: 0.6 };
  if (m === 11 && day === 25) return { holiday: true, factor: 0.4 };
  if (m === 11 && day === 26) return { holiday: true, factor: 0.7 };
  if (m === 11 && day === 31) return { holiday: true, factor: 0.7 };
  if (m === 11 && day <= 20) return { holiday: false, factor: 1.35 }; // Christmas shopping
  if (m === 1 && day >= 10 && day <= 14) return { holiday: false, factor: 1.15 }; // Valentine's
  return { holiday: false, factor: 1 };
}

/** The days of the period, with their shared demand multipliers. */
export function buildCalendar(startDate: string, days: number): Day[] {
  const start = Date.parse(`${startDate}T00:00:00Z`);
  const out: Day[] = [];
  for (let i = 0; i < days; i++) {
    const ms = start + i * DAY_MS;
    const d = new Date(ms);
    const doy = Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY_MS);
    const dow = d.getUTCDay();
    const h = holidayEffect(d);
    // Shared yearly cycle: a winter peak (early January low after the holidays is in holidayEffect).
    const yearly = 1 + 0.15 * Math.cos((2 * Math.PI * (doy - 330)) / 365);
    out.push({
      index: i,
      date: d.toISOString().slice(0, 10),
      ms,
      dow,
      doy,
      holiday: h.holiday,
      demand: (WEEKLY[dow] ?? 1) * yearly * h.factor,
    });
  }
  return out;
}

/** An ISO timestamp without milliseconds: 2024-01-01T13:45:12Z. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

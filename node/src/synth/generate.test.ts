import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { toCsv, writeCooperative } from './csv';
import { generateCooperative } from './generate';
import { CANONICAL_COLUMNS } from './layout';
import type { CooperativeTables } from './layout';

const small = { shops: 4, days: 90, customersPerShop: 60, catalogSize: 60 } as const;
const dirs: string[] = [];

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'coopfl-synth-'));
  dirs.push(d);
  return d;
}

async function filesOf(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const f of (await readdir(dir)).sort()) out[f] = await readFile(join(dir, f));
  return out;
}

beforeAll(async () => {
  await cryptoReady();
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('synthetic cooperative: files', () => {
  it('the same seed gives byte-identical files; another seed different ones', async () => {
    const [a, b, c] = [await tmp(), await tmp(), await tmp()];
    await writeCooperative(a, generateCooperative({ ...small, seed: 11, dailySales: true }));
    await writeCooperative(b, generateCooperative({ ...small, seed: 11, dailySales: true }));
    await writeCooperative(c, generateCooperative({ ...small, seed: 12, dailySales: true }));
    const [fa, fb, fc] = [await filesOf(a), await filesOf(b), await filesOf(c)];
    expect(Object.keys(fa)).toHaveLength(6);
    for (const name of Object.keys(fa)) {
      expect(fb[name]!.equals(fa[name]!), name).toBe(true);
      expect(fc[name]!.equals(fa[name]!), name).toBe(false);
    }
  });

  it('writes exactly the canonical files and headers (daily_sales only when asked)', async () => {
    const without = await tmp();
    await writeCooperative(without, generateCooperative({ ...small, seed: 1 }));
    expect((await readdir(without)).sort()).toEqual([
      'customers.csv',
      'fraud_labels.csv',
      'order_items.csv',
      'orders.csv',
      'products.csv',
    ]);
    const withDaily = await tmp();
    const tables = generateCooperative({ ...small, seed: 1, dailySales: true });
    const rows = await writeCooperative(withDaily, tables);
    for (const [name, columns] of Object.entries(CANONICAL_COLUMNS)) {
      const text = await readFile(join(withDaily, `${name}.csv`), 'utf8');
      const lines = text.trimEnd().split('\n');
      expect(lines[0], name).toBe(columns.join(','));
      expect(lines.length - 1, name).toBe(rows[`${name}.csv`]);
      for (const line of lines.slice(1, 50)) expect(line.split(',')).toHaveLength(columns.length);
    }
    // Dense daily sales: every day × every product of every shop.
    expect(tables.daily_sales).toHaveLength(small.days * tables.products.length);
  });

  it('daily_sales matches the order lines and shows a promotion lift', () => {
    const tables = generateCooperative({
      ...small,
      days: 365,
      customersPerShop: 300,
      seed: 3,
      dailySales: true,
    });
    const cancelled = new Set(
      tables.orders
        .filter((o) => o.status === 'cancelled')
        .map((o) => `${o.store_id}/${o.order_id}`),
    );
    const fromItems = tables.order_items
      .filter((r) => !cancelled.has(`${r.store_id}/${r.order_id}`))
      .reduce((n, r) => n + Number(r.quantity), 0);
    const daily = tables.daily_sales!;
    expect(daily.reduce((n, r) => n + Number(r.units), 0)).toBe(fromItems);
    // Lift: units of a key on its promotion days over its mean on other days.
    const base = new Map<string, { units: number; days: number }>();
    for (const r of daily) {
      if (r.promo === 1) continue;
      const k = `${r.store_id}/${r.catalog_key}`;
      const b = base.get(k) ?? { units: 0, days: 0 };
      base.set(k, { units: b.units + Number(r.units), days: b.days + 1 });
    }
    const promo = daily.filter((r) => r.promo === 1);
    expect(promo.length).toBeGreaterThan(100);
    let actual = 0;
    let expected = 0;
    for (const r of promo) {
      const b = base.get(`${r.store_id}/${r.catalog_key}`)!;
      actual += Number(r.units);
      expected += b.units / b.days;
    }
    expect(actual).toBeGreaterThan(1.4 * expected); // seed 3: 1.63
  });

  it('toCsv quotes fields with commas and quotes', () => {
    const csv = toCsv('fraud_labels', [{ store_id: 'a,"b"', order_id: 'o', is_fraud: 0 }]);
    expect(csv).toBe('store_id,order_id,is_fraud\n"a,""b""",o,0\n');
  });

  it('rejects bad options with a zod error naming the field', () => {
    expect(() => generateCooperative({ shops: 0 })).toThrow(/shops/);
    expect(() => generateCooperative({ fraudRate: [0.2, 0.1] })).toThrow(/min must be ≤ max/);
  });
});

describe('synthetic cooperative: statistics (20 shops × 730 days)', () => {
  let t: CooperativeTables;
  const options = { shops: 20, days: 730, seed: 2024, sizeSkew: 1, repeatCustomerShare: 0.45 };
  const fraudRange = [0.005, 0.03] as const;
  let fraudOf: Map<string, boolean>;

  beforeAll(() => {
    t = generateCooperative({ ...options, fraudRate: [...fraudRange] });
    fraudOf = new Map(t.fraud_labels.map((r) => [`${r.store_id}/${r.order_id}`, r.is_fraud === 1]));
  });

  const perShop = (rows: { store_id: string | number }[]) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(String(r.store_id), (m.get(String(r.store_id)) ?? 0) + 1);
    return m;
  };

  it('references are intact: items → orders and products, orders → customers, labels 1:1', () => {
    const products = new Set(t.products.map((r) => `${r.store_id}/${r.product_id}`));
    const customers = new Set(t.customers.map((r) => `${r.store_id}/${r.customer_id}`));
    const orders = new Set(t.orders.map((r) => `${r.store_id}/${r.order_id}`));
    expect(products.size).toBe(t.products.length);
    expect(customers.size).toBe(t.customers.length);
    expect(orders.size).toBe(t.orders.length);
    const bad = {
      itemOrder: t.order_items.filter((r) => !orders.has(`${r.store_id}/${r.order_id}`)).length,
      itemProduct: t.order_items.filter((r) => !products.has(`${r.store_id}/${r.product_id}`))
        .length,
      orderCustomer: t.orders.filter((r) => !customers.has(`${r.store_id}/${r.customer_id}`))
        .length,
      label: [...orders].filter((o) => !fraudOf.has(o)).length,
    };
    expect(bad).toEqual({ itemOrder: 0, itemProduct: 0, orderCustomer: 0, label: 0 });
    expect(fraudOf.size).toBe(orders.size);
    // Every order has at least one item.
    expect(new Set(t.order_items.map((r) => `${r.store_id}/${r.order_id}`)).size).toBe(orders.size);
  });

  it('shop sizes follow the skew: largest/median customers in [7, 16] for n = 20, skew 1', () => {
    // rank^-1 sizes: largest/median = 1 / mean(1/10, 1/11) ≈ 10.5, ±10 % jitter per shop.
    const sizes = [...perShop(t.customers).values()].sort((a, b) => a - b);
    const ratio = sizes[sizes.length - 1]! / ((sizes[9]! + sizes[10]!) / 2);
    expect(ratio).toBeGreaterThan(7);
    expect(ratio).toBeLessThan(16);
    // Equal-size shops with skew 0: ratio below 1.5 (only the jitter and fraud accounts).
    const flat = generateCooperative({ ...small, shops: 10, sizeSkew: 0, customersPerShop: 100 });
    const s0 = [...perShop(flat.customers).values()].sort((a, b) => a - b);
    expect(s0[s0.length - 1]! / s0[4]!).toBeLessThan(1.5);
  });

  it('staggered openings: no order before a shop opens, and a young shop is smaller', () => {
    const o = { ...small, shops: 8, days: 200, customersPerShop: 150, sizeSkew: 0 } as const;
    const staggered = generateCooperative({ ...o, openingSpread: 0.8 });
    const firstDay = new Map<string, string>();
    for (const r of staggered.orders) {
      const s = String(r.store_id);
      const d = String(r.created_at).slice(0, 10);
      if (!firstDay.has(s) || d < firstDay.get(s)!) firstDay.set(s, d);
    }
    const days = [...firstDay.values()].map(
      (d) => (Date.parse(d) - Date.parse('2024-01-01')) / 864e5,
    );
    // Openings spread over the first 80 % (160 days): some shops open late…
    expect(Math.max(...days)).toBeGreaterThan(60);
    expect(Math.max(...days)).toBeLessThanOrEqual(160 + 7);
    // …and have fewer customers than the shops of the same size that trade from day one.
    const late = [...firstDay.entries()].sort((a, b) => b[1].localeCompare(a[1]))[0]![0];
    const customers = perShop(staggered.customers);
    const flat = perShop(generateCooperative(o).customers);
    expect(customers.get(late)!).toBeLessThan(0.8 * flat.get(late)!);
    // Without the option every shop trades from the first days.
    const plain = generateCooperative(o);
    for (const s of new Set(plain.orders.map((r) => String(r.store_id)))) {
      const first = plain.orders
        .filter((r) => String(r.store_id) === s)
        .map((r) => String(r.created_at))
        .sort()[0]!;
      expect(first < '2024-01-15', s).toBe(true);
    }
  });

  it('fraud rate of every shop lies in the configured range', () => {
    const orders = perShop(t.orders);
    const frauds = perShop(t.fraud_labels.filter((r) => r.is_fraud === 1));
    expect(orders.size).toBe(20);
    for (const [shop, n] of orders) {
      const rate = (frauds.get(shop) ?? 0) / n;
      const slack = 1 / n; // rounding to whole orders
      expect(rate, shop).toBeGreaterThanOrEqual(fraudRange[0] - slack);
      expect(rate, shop).toBeLessThanOrEqual(fraudRange[1] + slack);
    }
  });

  it('fraud is over-represented (≥ 5×) among billing/shipping country mismatches', () => {
    const count = { mm: 0, mmFraud: 0, ok: 0, okFraud: 0 };
    for (const o of t.orders) {
      const fraud = fraudOf.get(`${o.store_id}/${o.order_id}`)!;
      if (o.billing_country !== o.shipping_country) {
        count.mm++;
        if (fraud) count.mmFraud++;
      } else {
        count.ok++;
        if (fraud) count.okFraud++;
      }
    }
    expect(count.mm).toBeGreaterThan(100);
    expect(count.mmFraud / count.mm).toBeGreaterThan(5 * (count.okFraud / count.ok));
  });

  it('card-testing bursts: new customers with many small orders within minutes', () => {
    // Per shop, fraud orders whose successor fraud order is < 2 min later: bursts exist.
    const fraudOrders = t.orders.filter((o) => fraudOf.get(`${o.store_id}/${o.order_id}`));
    let close = 0;
    for (let i = 1; i < fraudOrders.length; i++) {
      const a = fraudOrders[i - 1]!;
      const b = fraudOrders[i]!;
      const gap = Date.parse(String(b.created_at)) - Date.parse(String(a.created_at));
      if (a.store_id === b.store_id && gap <= 120_000 && a.customer_id !== b.customer_id) close++;
    }
    expect(close / fraudOrders.length).toBeGreaterThan(0.1);
  });

  it('fraud patterns: night-heavy, new accounts, high first orders, taken-over accounts', () => {
    const seen = new Set<string>();
    const firstTotals = { fraud: [] as number[], legit: [] as number[] };
    let night = { fraud: 0, legit: 0 };
    let takeovers = 0;
    let frauds = 0;
    for (const o of t.orders) {
      const fraud = fraudOf.get(`${o.store_id}/${o.order_id}`)!;
      const c = `${o.store_id}/${o.customer_id}`;
      const hour = new Date(String(o.created_at)).getUTCHours();
      if (hour < 6)
        night = { ...night, [fraud ? 'fraud' : 'legit']: night[fraud ? 'fraud' : 'legit'] + 1 };
      if (fraud) frauds++;
      if (!seen.has(c)) firstTotals[fraud ? 'fraud' : 'legit'].push(Number(o.total));
      else if (fraud) takeovers++;
      seen.add(c);
    }
    const legitCount = t.orders.length - frauds;
    expect(night.fraud / frauds).toBeGreaterThan(2 * (night.legit / legitCount));
    // Account takeovers are ~25 % of fraud orders by weight; bursts dilute that share.
    expect(takeovers / frauds).toBeGreaterThan(0.05);
    // Unusually high first orders: above the legitimate first orders' 99th percentile, fraud is
    // ≥ 4× as frequent as among all first orders (card-testing bursts inflate the latter).
    const q99 = [...firstTotals.legit].sort((a, b) => a - b)[
      Math.floor(firstTotals.legit.length * 0.99)
    ]!;
    const high = firstTotals.fraud.filter((x) => x > q99).length;
    const highLegit = firstTotals.legit.filter((x) => x > q99).length;
    const share = firstTotals.fraud.length / (firstTotals.fraud.length + firstTotals.legit.length);
    expect(high / (high + highLegit)).toBeGreaterThan(4 * share);
  });

  it('repeat customers make up the configured share (± 0.03) of legitimate buyers', () => {
    const legitOrders = new Map<string, number>();
    for (const o of t.orders) {
      if (fraudOf.get(`${o.store_id}/${o.order_id}`)) continue;
      const c = `${o.store_id}/${o.customer_id}`;
      legitOrders.set(c, (legitOrders.get(c) ?? 0) + 1);
    }
    const counts = [...legitOrders.values()];
    const share = counts.filter((n) => n >= 2).length / counts.length;
    expect(Math.abs(share - options.repeatCustomerShare)).toBeLessThan(0.03);
  });

  it('next purchases follow the last one: category match ≥ 1.5× a same-shop shuffled baseline', () => {
    const category = new Map(t.products.map((r) => [`${r.store_id}/${r.product_id}`, r.category]));
    const items = new Map<string, (string | number)[]>();
    for (const r of t.order_items) {
      const k = `${r.store_id}/${r.order_id}`;
      const list = items.get(k) ?? [];
      list.push(category.get(`${r.store_id}/${r.product_id}`)!);
      items.set(k, list);
    }
    // Consecutive legitimate orders of each customer: (last category before, first category after).
    const last = new Map<string, string | number>();
    const pairs = new Map<string, [string | number, string | number][]>();
    for (const o of t.orders) {
      const k = `${o.store_id}/${o.order_id}`;
      if (fraudOf.get(k)) continue;
      const c = `${o.store_id}/${o.customer_id}`;
      const basket = items.get(k)!;
      const prev = last.get(c);
      if (prev !== undefined) {
        const list = pairs.get(String(o.store_id)) ?? [];
        list.push([prev, basket[0]!]);
        pairs.set(String(o.store_id), list);
      }
      last.set(c, basket[basket.length - 1]!);
    }
    let hits = 0;
    let baseline = 0;
    let n = 0;
    for (const list of pairs.values()) {
      const shift = Math.floor(list.length / 2);
      list.forEach(([a, b], i) => {
        if (a === b) hits++;
        if (a === list[(i + shift) % list.length]![1]) baseline++;
        n++;
      });
    }
    expect(n).toBeGreaterThan(10_000);
    expect(hits / n).toBeGreaterThan(1.5 * (baseline / n));
  });

  it('weekly seasonality: the day-of-week effect on daily units is significant (F-test, p < 0.001)', () => {
    const units = dailyUnits(t);
    const groups: number[][] = Array.from({ length: 7 }, () => []);
    for (const [date, u] of units) groups[new Date(`${date}T00:00:00Z`).getUTCDay()]!.push(u);
    // One-way ANOVA. F(6, 723) at p = 0.001 is ≈ 3.8.
    const all = groups.flat();
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    let between = 0;
    let within = 0;
    for (const g of groups) {
      const m = g.reduce((a, b) => a + b, 0) / g.length;
      between += g.length * (m - mean) ** 2;
      for (const x of g) within += (x - m) ** 2;
    }
    const f = between / 6 / (within / (all.length - 7));
    expect(f).toBeGreaterThan(3.8);
  });

  it('pooling helps small shops: a pooled weekly profile beats their own and a flat mean', () => {
    // Train on the 26 weeks before day 584, test on the last 146 days: level × weekly profile,
    // profile from the shop's own history or from the whole cooperative. Squared error over the
    // five smallest shops; seeds 1, 2, 2024 all give pooled < own < flat (margins 1–4 %).
    const days = 730;
    const split = 584;
    const series = shopSeries(t, days);
    const dow = (i: number) => (i + 1) % 7; // 2024-01-01 is a Monday
    const profile = (a: Float64Array) => {
      const sum = Array<number>(7).fill(0);
      let total = 0;
      for (let i = split - 182; i < split; i++) {
        sum[dow(i)]! += a[i]!;
        total += a[i]!;
      }
      return sum.map((x) => x / 26 / (total / 182));
    };
    const pooled = new Float64Array(days);
    for (const a of series.values()) a.forEach((x, i) => (pooled[i]! += x));
    const pooledProfile = profile(pooled);
    const smallest = [...series.values()]
      .sort((a, b) => a.reduce((x, y) => x + y, 0) - b.reduce((x, y) => x + y, 0))
      .slice(0, 5);
    const err = { flat: 0, own: 0, pooled: 0 };
    for (const a of smallest) {
      const own = profile(a);
      const level = a.slice(split - 182, split).reduce((x, y) => x + y, 0) / 182;
      for (let i = split; i < days; i++) {
        err.flat += (a[i]! - level) ** 2;
        err.own += (a[i]! - level * own[dow(i)]!) ** 2;
        err.pooled += (a[i]! - level * pooledProfile[dow(i)]!) ** 2;
      }
    }
    expect(err.pooled).toBeLessThan(err.own);
    expect(err.pooled).toBeLessThan(0.98 * err.flat);
  });

  it('a seasonal (day-of-week) forecast beats a flat mean on the last 8 weeks', () => {
    const series = [...dailyUnits(t).values()];
    const train = series.slice(-56 - 56, -56);
    const test = series.slice(-56);
    const flat = train.reduce((a, b) => a + b, 0) / train.length;
    const byDow = Array.from({ length: 7 }, (_, d) => {
      const xs = train.filter((_, i) => i % 7 === d);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    });
    const mae = (f: (i: number) => number) =>
      test.reduce((s, x, i) => s + Math.abs(x - f(i)), 0) / test.length;
    expect(mae((i) => byDow[i % 7]!)).toBeLessThan(0.9 * mae(() => flat));
  });
});

/** Units per day per shop (index = day from 2024-01-01). */
function shopSeries(t: CooperativeTables, days: number): Map<string, Float64Array> {
  const start = Date.parse('2024-01-01T00:00:00Z');
  const dayOf = new Map(
    t.orders.map((o) => [
      `${o.store_id}/${o.order_id}`,
      Math.floor((Date.parse(String(o.created_at)) - start) / 86_400_000),
    ]),
  );
  const out = new Map<string, Float64Array>();
  for (const r of t.order_items) {
    const s = String(r.store_id);
    let a = out.get(s);
    if (!a) out.set(s, (a = new Float64Array(days)));
    a[dayOf.get(`${r.store_id}/${r.order_id}`)!]! += Number(r.quantity);
  }
  return out;
}

/** Units per day over all shops (legitimate and fraudulent orders), in date order. */
function dailyUnits(t: CooperativeTables): Map<string, number> {
  const dateOf = new Map(
    t.orders.map((o) => [`${o.store_id}/${o.order_id}`, String(o.created_at).slice(0, 10)]),
  );
  const units = new Map<string, number>();
  for (const r of t.order_items) {
    const d = dateOf.get(`${r.store_id}/${r.order_id}`)!;
    units.set(d, (units.get(d) ?? 0) + Number(r.quantity));
  }
  return new Map([...units].sort(([a], [b]) => a.localeCompare(b)));
}

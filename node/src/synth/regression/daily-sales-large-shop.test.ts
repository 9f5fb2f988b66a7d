import { beforeAll, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { generateCooperative } from '../generate';

beforeAll(async () => {
  await cryptoReady();
});

// daily_sales rows of a shop were appended with push(...rows): above ~10^5 rows per shop (a big
// assortment over two years) that overflowed the call stack.
it('daily_sales of a shop with > 150 000 rows does not overflow the stack', () => {
  const t = generateCooperative({
    shops: 1,
    days: 400,
    catalogSize: 2000,
    customersPerShop: 20,
    dailySales: true,
  });
  expect(t.products.length).toBe(400);
  expect(t.daily_sales).toHaveLength(400 * 400);
});

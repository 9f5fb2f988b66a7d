import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '@coopfl/protocol';
import { loadConfig } from '../config';
import type { RunningCoordinator } from '../server';
import { startCoordinator } from '../server';

let running: RunningCoordinator;

beforeAll(async () => {
  await cryptoReady();
  running = await startCoordinator(
    loadConfig(
      { db: 'memory://', port: 0, keyFile: 'memory', logLevel: 'silent', authRatePerMinute: 3 },
      {},
    ),
  );
}, 60_000);
afterAll(() => running?.close());

const post = (procedure: string, input: unknown) =>
  fetch(`${running.url}/trpc/${procedure}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.7' },
    body: JSON.stringify(input),
  });

describe('login endpoints are rate-limited per client address', () => {
  it('admin login and member login share the budget; past it, 429 RateLimited', async () => {
    const token = `cfl_${'A'.repeat(43)}`;
    const statuses = [
      (await post('auth.login', { username: 'admin', password: 'wrong' })).status,
      (await post('auth.memberLogin', { token })).status,
      (await post('auth.login', { username: 'admin', password: 'wrong' })).status,
    ];
    expect(statuses.every((s) => s === 401 || s === 403 || s === 404)).toBe(true);
    for (const res of [
      await post('auth.memberLogin', { token }),
      await post('auth.login', { username: 'admin', password: 'wrong' }),
    ]) {
      expect(res.status).toBe(429);
      const body = (await res.json()) as { error: { data?: { coopflCode?: string } } };
      expect(body.error.data?.coopflCode).toBe('RateLimited');
    }
  });
});

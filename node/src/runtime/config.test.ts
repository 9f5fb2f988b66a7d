import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeConfig } from './config';
import {
  keyFingerprint,
  loadNodeConfig,
  parseNodeConfig,
  resolveNodeDir,
  saveNodeConfig,
  storeTarget,
} from './config';

const key = 'ab'.repeat(32);
const good = {
  coordinatorUrl: 'http://127.0.0.1:8787/',
  coordinatorKey: key,
  coordinatorFingerprint: keyFingerprint(Buffer.from(key, 'hex')),
  memberId: 'm-1',
  name: 'Shop',
  storeDb: 'db',
};
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coopfl-node-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('node config', () => {
  it('fills defaults and round-trips through the data directory', async () => {
    const c: NodeConfig = parseNodeConfig(good);
    expect(c.coordinatorUrl).toBe('http://127.0.0.1:8787');
    expect(c).toMatchObject({ pollMs: 5000, maxBackoffMs: 60_000, views: {} });
    await saveNodeConfig(dir, c);
    expect(await loadNodeConfig(dir)).toEqual(c);
  });

  it('a bad value stops start-up with a message naming it', async () => {
    expect(() => parseNodeConfig({ ...good, pollMs: 5 })).toThrow(/InvalidConfig: .*pollMs: /);
    expect(() => parseNodeConfig({ ...good, coordinatorUrl: 'ftp://x' })).toThrow(
      /coordinatorUrl: must be an http\(s\) URL/,
    );
    expect(() => parseNodeConfig({ ...good, views: { orders: 'x; drop table' } })).toThrow(
      /views\.orders: must be "name" or "schema\.name"/,
    );
    expect(() => parseNodeConfig({ ...good, coordinatorFingerprint: '0'.repeat(32) })).toThrow(
      /coordinatorFingerprint: does not match coordinatorKey/,
    );
    expect(() => parseNodeConfig({ ...good, extra: 1 })).toThrow(/InvalidConfig/);
    await writeFile(join(dir, 'node.json'), '{ not json');
    await expect(loadNodeConfig(dir)).rejects.toThrow(/node\.json is not valid JSON/);
    await expect(loadNodeConfig(join(dir, 'nothing'))).rejects.toMatchObject({
      code: 'NotInitialized',
    });
  });

  it('finds the data directory from the flag, then COOPFL_NODE_DIR, then the default', () => {
    expect(resolveNodeDir('/a', { COOPFL_NODE_DIR: '/b' })).toBe('/a');
    expect(resolveNodeDir(undefined, { COOPFL_NODE_DIR: '/b' })).toBe('/b');
    expect(resolveNodeDir(undefined, {})).toBe(resolve('.coopfl/node'));
    expect(storeTarget('/n', 'db')).toBe('/n/db');
    expect(storeTarget('/n', 'postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(storeTarget('/n', 'memory://')).toBe('memory://');
  });
});

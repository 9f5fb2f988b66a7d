import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Every file under protocol/src/dp, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('no platform PRNG in differential privacy', () => {
  it('no file in protocol/src/dp mentions Math dot random', () => {
    const needle = ['Math', 'random'].join('.'); // built so this file does not match itself
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const all = files(dir);
    expect(all.length).toBeGreaterThan(10);
    const offenders = all.filter((p) => readFileSync(p, 'utf8').includes(needle));
    expect(offenders).toEqual([]);
  });
});

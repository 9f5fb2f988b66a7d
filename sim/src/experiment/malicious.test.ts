import { describe, expect, it } from 'vitest';
import type { ModelRuntime } from '@coopfl/node/models';
import { maliciousRuntimes } from './malicious';
import { runExperiment } from './run';
import { TINY } from './tiny.fixture';

/** A runtime whose "training" moves every weight by +1. */
const plusOne = {
  kind: 'fraud',
  prepare: () => Promise.reject(new Error('unused')),
  train: (_arch, global) =>
    Promise.resolve({ weights: global.map((w) => w + 1), examples: 3, dpEvents: [] }),
  evaluate: () => ({}),
  baselines: () => ({}),
} satisfies ModelRuntime;

describe('malicious members', () => {
  it('scale or sign-flip the update Δ = w_local − w_global, nothing else', async () => {
    const global = Float32Array.from([0.5, -2]);
    const cfg = {} as Parameters<ModelRuntime['train']>[3];
    const arch = {} as Parameters<ModelRuntime['train']>[0];
    const scaled = maliciousRuntimes({ fraud: plusOne }, { kind: 'scale', factor: 10 });
    const flipped = maliciousRuntimes({ fraud: plusOne }, { kind: 'sign-flip' });
    const a = await scaled.fraud!.train(arch, global, { kind: 'fraud' } as never, cfg);
    const b = await flipped.fraud!.train(arch, global, { kind: 'fraud' } as never, cfg);
    expect([...a.weights]).toEqual([10.5, 8]);
    expect([...b.weights]).toEqual([-0.5, -3]);
    expect(a.examples).toBe(3);
    expect(scaled.fraud!.kind).toBe('fraud');
  });

  it('run as real nodes in the cooperative: every round still completes', async () => {
    const r = await runExperiment({
      ...TINY,
      models: ['fraud'],
      malicious: { fraction: 0.34, attack: 'sign-flip' },
    });
    expect(r.malicious).toHaveLength(1);
    expect(r.models[0]!.rounds.map((x) => [x.status, x.survivors])).toEqual([
      ['done', 3],
      ['done', 3],
    ]);
  }, 90_000);
});

import { describe, expect, it } from 'vitest';
import { DpStepLog } from './step-log';

describe('DpStepLog', () => {
  it('merges consecutive identical steps and keeps changes as separate events', () => {
    const l = new DpStepLog();
    l.record(1.1, 0.01);
    l.record(1.1, 0.01, 4);
    l.record(0.9, 0.01);
    expect(l.events()).toEqual([
      { mechanism: 'gaussian', noiseMultiplier: 1.1, samplingRate: 0.01, steps: 5 },
      { mechanism: 'gaussian', noiseMultiplier: 0.9, samplingRate: 0.01, steps: 1 },
    ]);
    expect(l.steps).toBe(6);
    const copy = l.events();
    copy.pop();
    expect(l.events()).toHaveLength(2);
  });

  it('rejects values an accountant cannot use', () => {
    const l = new DpStepLog();
    expect(() => l.record(-1, 0.1)).toThrow(/noiseMultiplier/);
    expect(() => l.record(1, 0)).toThrow(/samplingRate/);
    expect(() => l.record(1, 0.1, 0)).toThrow(/steps/);
  });
});

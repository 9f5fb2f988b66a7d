import { describe, expect, it } from 'vitest';
import type { NoiseMultiplier } from '../../brand';
import { pldEpsilon } from '../pld';
import { rdpEpsilon } from '../rdp';

/**
 * Regression: the Chernoff window was once computed on a coarsened copy of the one-step PLD. When
 * one step's losses are concentrated in a sliver of its support (small q, many steps), rounding
 * them up by the coarse grid shifted the window by T·(coarse step) — past the real mass, which then
 * wrapped around the cyclic convolution: σ=1, q=1e-4, T=1e5 reported ε = 5.5 where RDP says 0.48.
 * The window now uses exact moment-generating functions of the fine grid.
 */
describe('PLD with many steps of a tiny sampling rate', () => {
  it('σ=1, q=1e-4, T=1e5: ε ≈ 0.168, well below RDP (0.482), not 5.5', () => {
    const ev = [
      {
        mechanism: 'gaussian' as const,
        noiseMultiplier: 1 as NoiseMultiplier,
        samplingRate: 1e-4,
        steps: 100_000,
      },
    ];
    const pld = pldEpsilon({ events: ev, delta: 1e-5 }).epsilon;
    const rdp = rdpEpsilon({ events: ev, delta: 1e-5 }).epsilon;
    expect(rdp).toBeCloseTo(0.482, 3);
    expect(pld).toBeGreaterThan(0.15);
    expect(pld).toBeLessThan(0.18);
  });
});

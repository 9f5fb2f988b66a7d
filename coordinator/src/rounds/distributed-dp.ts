import { distributedSkellamMu, noiseHeadroom } from '@coopfl/protocol/dp';
import type { SkellamParams } from '@coopfl/protocol/dp';

/**
 * Distributed DP sizing (DESIGN §6): each member adds Skellam noise in the secure-aggregation ring
 * so that ANY `minSurvivors` of the n members together carry Gaussian-equivalent noise of
 * standard deviation z·C in quantized units (σ_q = z·C·s, where s is the fixed-point scale); the
 * coordinator never sees a noiseless sum.
 *
 * The scale is NOT maximised here: with noise of standard deviation z·C in the result, a
 * quantization step far below it is wasted precision, while a huge scale would need Poisson means
 * beyond exact double arithmetic. The plan puts σ_q at 2^20 units (step ≈ 10⁻⁶·z·C) and reserves
 * the rest of the 32-bit ring as headroom, halving the scale only if the noise's tail bound (wrap
 * probability ≤ `failureProb` per coordinate) would not fit.
 */
export interface DistributedDpPlan {
  /** Per-member Skellam mean μ (variance 2μ), in quantized units. */
  perClientMu: number;
  /** Integer headroom reserved in the 32-bit ring (at least the summed noise's tail bound). */
  noiseHeadroom: number;
  /** The fixed-point scale the round will use. */
  scale: number;
  /** Accounting parameters for `minSurvivors` survivors (the guarantee's worst case). */
  skellam: SkellamParams;
}

const INT32_MAX = 2 ** 31 - 1;
const NOISE_STD_UNITS = 2 ** 20;

export function planDistributedDp(o: {
  clients: number;
  minSurvivors: number;
  clipNorm: number;
  noiseMultiplier: number;
  dim: number;
  /** Per-coordinate wrap probability bound. */
  failureProb?: number;
}): DistributedDpPlan {
  const n = o.clients;
  if (!(o.noiseMultiplier > 0)) throw new Error('distributed DP needs a noise multiplier > 0');
  const B = Math.max(o.clipNorm, 1); // unit weights under DP
  const failureProb = o.failureProb ?? 1e-12;
  const muAt = (s: number) =>
    distributedSkellamMu({
      clients: n,
      threshold: o.minSurvivors,
      targetVariance: (o.noiseMultiplier * o.clipNorm * s) ** 2,
    }).perClientMu;
  const headroomAt = (s: number) =>
    Math.ceil(noiseHeadroom({ perClientMu: muAt(s), n, failureProb }));
  let target = Math.min(
    NOISE_STD_UNITS / (o.noiseMultiplier * o.clipNorm),
    (INT32_MAX - n) / (2 * n * B),
  );
  for (let i = 0; i < 64; i++, target /= 2) {
    const noiseRoom = Math.floor(INT32_MAX - n - n * B * target);
    // The scale the round configuration will derive from this headroom (≥ target: the floor).
    const scale = (INT32_MAX - n - noiseRoom) / (n * B);
    if (noiseRoom <= 0 || headroomAt(scale) > noiseRoom) continue;
    const perClientMu = muAt(scale);
    const l2 = o.clipNorm * scale + Math.sqrt(o.dim); // stochastic rounding adds < 1 per coordinate
    return {
      perClientMu,
      noiseHeadroom: noiseRoom,
      scale,
      skellam: {
        mu: perClientMu * o.minSurvivors,
        l2Sensitivity: l2,
        l1Sensitivity: Math.min(l2 * l2, Math.sqrt(o.dim) * l2),
      },
    };
  }
  throw new Error(
    `no fixed-point scale leaves room for noise multiplier ${o.noiseMultiplier} with ${n} members`,
  );
}

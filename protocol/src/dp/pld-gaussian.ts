import { normalCdf, normalSf } from './special';

/**
 * The privacy loss distribution (PLD) of one step of the Poisson-subsampled Gaussian mechanism,
 * discretised pessimistically (Meiser & Mohammadi 2018, "Tight on Budget?"; Koskela, Jälkö &
 * Honkela 2020, "Computing Tight Differential Privacy Guarantees Using FFT"; Doroshenko, Ghazi,
 * Kamath, Kumar & Manurangsi 2022, "Connect the Dots", §3 on pessimistic discretisation).
 *
 * Sensitivity 1, noise σ, rate q, add/remove neighbours; the worst case needs both directions
 * (as in Google's dp_accounting, which composes and reports both):
 *   remove: P = (1−q)N(0,σ²) + qN(1,σ²), Q = N(0,σ²), loss L(x) = log(1 − q + q·e^{(2x−1)/(2σ²)}), x∼P;
 *   add:    P = N(0,σ²), Q = the mixture,      loss −L(x), x∼N(0,σ²).
 * L is increasing in x with inverse x(ℓ) = σ²·log((e^ℓ − 1 + q)/q) + ½ for ℓ > log(1−q), so the
 * CDF of the loss is a sum of normal CDFs. Every loss is rounded UP to the grid h·ℤ (bucket k holds
 * P(L ∈ ((k−1)h, kh])); mass below the lowest bucket joins it, and mass above the highest bucket
 * (at most Φc(9) ≈ 1e-19) becomes the mass at +∞. Rounding losses up can only increase δ(ε), for
 * one step and after composition, so every ε we report is an upper bound.
 */

/** A discretised PLD: mass `probs[i]` at loss (offset + i)·h, plus `infinityMass` at +∞. */
export interface DiscretePld {
  offset: number;
  probs: Float64Array;
  infinityMass: number;
}

/** Normal quantile used to truncate: Φc(9) ≈ 1.1e-19. */
const Z_TAIL = 9;

/** log(1 − q + q·e^u) without overflow or cancellation. */
function removeLoss(u: number, q: number): number {
  if (q === 1) return u;
  return u > 0 ? u + Math.log(q + (1 - q) * Math.exp(-u)) : Math.log1p(q * Math.expm1(u));
}

/** x(ℓ) = σ²·log((e^ℓ − 1 + q)/q) + ½, the inverse of the remove-direction loss. */
function inverseLoss(l: number, q: number, s2: number): number {
  const logNum = l > 0 ? l + Math.log1p(-(1 - q) * Math.exp(-l)) : Math.log(Math.expm1(l) + q);
  return s2 * (logNum - Math.log(q)) + 0.5;
}

/**
 * The loss support [lo, hi] (after tail truncation at Φc(9)) of one direction, before
 * discretisation; used to bound the grid size before allocating it.
 *
 * @example
 * pldSupport(0.01, 1, 'remove'); // { lo: log(0.99), hi: ≈ 4.9 }
 */
export function pldSupport(
  q: number,
  sigma: number,
  direction: 'remove' | 'add',
): { lo: number; hi: number } {
  const s2 = sigma * sigma;
  const loss = (x: number) => removeLoss((2 * x - 1) / (2 * s2), q);
  const floor = q < 1 ? Math.log1p(-q) : -Infinity;
  if (direction === 'remove') {
    return { lo: Math.max(floor, loss(-Z_TAIL * sigma)), hi: loss(1 + Z_TAIL * sigma) };
  }
  return { lo: -loss(Z_TAIL * sigma), hi: Math.min(-floor, -loss(-Z_TAIL * sigma)) };
}

/**
 * Discretises one direction of the one-step PLD on the grid h·ℤ (see the file comment).
 *
 * @example
 * const pld = discretizeSampledGaussian({ samplingRate: 0.01, noiseMultiplier: 1, direction: 'remove', interval: 1e-4 });
 */
export function discretizeSampledGaussian(opts: {
  samplingRate: number;
  noiseMultiplier: number;
  direction: 'remove' | 'add';
  interval: number;
}): DiscretePld {
  const { samplingRate: q, noiseMultiplier: sigma, direction, interval: h } = opts;
  const s2 = sigma * sigma;
  const floor = q < 1 ? Math.log1p(-q) : -Infinity;
  // cdf(ℓ) = P(L ≤ ℓ) and sf(ℓ) = P(L > ℓ), each accurate where it is small.
  let cdf: (l: number) => number;
  let sf: (l: number) => number;
  if (direction === 'remove') {
    cdf = (l) => {
      if (l <= floor) return 0;
      const x = inverseLoss(l, q, s2);
      return (1 - q) * normalCdf(x / sigma) + q * normalCdf((x - 1) / sigma);
    };
    sf = (l) => {
      if (l <= floor) return 1;
      const x = inverseLoss(l, q, s2);
      return (1 - q) * normalSf(x / sigma) + q * normalSf((x - 1) / sigma);
    };
  } else {
    // P(−L(x) ≤ ℓ) = P(L(x) ≥ −ℓ) = P(x ≥ x(−ℓ)) for x ∼ N(0, σ²).
    cdf = (l) => (-l <= floor ? 1 : normalSf(inverseLoss(-l, q, s2) / sigma));
    sf = (l) => (-l <= floor ? 0 : normalCdf(inverseLoss(-l, q, s2) / sigma));
  }
  const { lo, hi } = pldSupport(q, sigma, direction);
  const k0 = Math.ceil(lo / h);
  const k1 = Math.max(k0, Math.ceil(hi / h));
  const n = k1 - k0 + 1;
  // Split at the median bucket: differences of the CDF below it, of the survival function above.
  let a = k0;
  let b = k1;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (sf(mid * h) <= 0.5) b = mid;
    else a = mid + 1;
  }
  const kMed = a;
  const probs = new Float64Array(n);
  let prev = cdf(k0 * h);
  probs[0] = prev;
  for (let k = k0 + 1; k <= kMed; k++) {
    const c = cdf(k * h);
    probs[k - k0] = Math.max(0, c - prev);
    prev = c;
  }
  let prevSf = sf(kMed * h);
  if (kMed === k0) probs[0] = 1 - prevSf;
  for (let k = kMed + 1; k <= k1; k++) {
    const s = sf(k * h);
    probs[k - k0] = Math.max(0, prevSf - s);
    prevSf = s;
  }
  return { offset: k0, probs, infinityMass: prevSf };
}

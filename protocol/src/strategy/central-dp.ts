import type { RandomSource } from '../crypto/random';
import { addGaussianNoise } from '../dp/gaussian';
import { ProtocolError } from '../errors';
import { checkAggregate } from './check';
import type { ServerOptimizer } from './types';

/**
 * Options of {@link withCentralDp}; one object (CONVENTIONS rule 14).
 *
 * @example
 * const options: CentralDpOptions = { clipNorm: 1, noiseMultiplier: 1.1, random: systemRandom() };
 */
export interface CentralDpOptions {
  /**
   * The L2 norm C every member's update was clipped to at its node ({@link clipUpdate}) — the
   * sensitivity of the sum. Trade-off: a small C biases large updates towards zero, a large C
   * needs more noise (σ = z·C) for the same ε.
   */
  clipNorm: number;
  /**
   * z = σ / C, from the accountant's calibration for the target (ε, δ). 0 adds no noise and gives
   * no privacy: for conformance tests only.
   */
  noiseMultiplier: number;
  /** Where the noise comes from: `systemRandom()` in production, `seededRandom(…)` in tests. */
  random: RandomSource;
  /**
   * Divide the noisy sum by this instead of the realised number of contributors: McMahan et al.
   * 2018's fixed-denominator estimator (expected cohort size qN), for when participation itself
   * must stay hidden (Poisson sampling). By default the realised count is used, which is public in
   * CoopFL: the coordinator selects the cohort and secure aggregation names the survivors.
   */
  fixedDenominator?: number;
}

function finiteAtLeast(name: string, v: unknown, min: number, strict: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (strict ? !(v > min) : !(v >= min))) {
    throw new ProtocolError(
      'InvalidArgument',
      `${name} must be a finite number ${strict ? '>' : '≥'} ${min}`,
    );
  }
  return v;
}

/**
 * Central differential privacy around any server optimizer: the Gaussian mechanism on the clipped
 * sum (McMahan, Ramage, Talwar & Zhang 2018, "Learning Differentially Private Recurrent Language
 * Models", DP-FedAvg; Abadi et al. 2016), then the wrapped optimizer as post-processing — so
 * FedAdam or FedYogi on top cost no extra privacy.
 *
 * Per round: the nodes clip their updates to L2 norm C ({@link clipUpdate}), secure aggregation
 * releases Σ_u Δ_u, this wrapper adds N(0, (z·C)²) to every coordinate of that sum and hands the
 * optimizer the noisy sum with weight n (the number of contributors): Δ̄ = (Σ Δ_u + noise) / n,
 * whose noise has standard deviation z·C/n per coordinate.
 *
 * Member-level DP needs unit weights: with weights w_u ≤ W the sensitivity of Σ w_u·Δ_u is W·C,
 * not C. So `aggregate.weight` must be the number of contributors — within 0.5, the slack that
 * absorbs secure aggregation's fixed-point error of the weight (far below 0.5 for any realistic
 * cohort) — and, when the aggregate names its `survivors`, exactly their count. Run DP rounds with
 * weight 1 and secagg `maxWeight` 1, so that no mix of weights can add up to the count. Anything
 * else is InvalidInput. The clipping itself happens on the nodes and cannot be checked here.
 *
 * The wrapper records no privacy spending: the coordinator adds a `gaussian` event
 * (noiseMultiplier z, the round's sampling rate) to the ledger for every cohort member.
 *
 * @example
 * const optimizer = withCentralDp(fedAvg(), {
 *   clipNorm: 1, noiseMultiplier: 1.1, random: systemRandom(),
 * });
 * const { weights, state } = optimizer.step(global, secaggResult, previousState);
 */
export function withCentralDp(inner: ServerOptimizer, options: CentralDpOptions): ServerOptimizer {
  if (typeof inner !== 'object' || inner === null || typeof inner.step !== 'function') {
    throw new ProtocolError('InvalidArgument', 'withCentralDp needs a ServerOptimizer to wrap');
  }
  const clipNorm = finiteAtLeast('clipNorm', options.clipNorm, 0, true);
  const z = finiteAtLeast('noiseMultiplier', options.noiseMultiplier, 0, false);
  const { random } = options;
  if (typeof random !== 'object' || random === null || typeof random.fill !== 'function') {
    throw new ProtocolError('InvalidArgument', 'random must be a RandomSource');
  }
  const fixed =
    options.fixedDenominator === undefined
      ? undefined
      : finiteAtLeast('fixedDenominator', options.fixedDenominator, 0, true);
  const stddev = z * clipNorm;
  return {
    kind: inner.kind,
    step(global, aggregate, state) {
      checkAggregate(global, aggregate);
      const { weight, survivors } = aggregate;
      const count = survivors === undefined ? Math.round(weight) : survivors.length;
      if (!(count >= 1) || !(Math.abs(weight - count) < 0.5)) {
        const who = survivors === undefined ? '' : ` (${count} survivors)`;
        throw new ProtocolError(
          'InvalidInput',
          `central DP needs unit weights: aggregate.weight ${weight} is not the contributor count${who}`,
        );
      }
      const noisy = addGaussianNoise(random, aggregate.sum.slice(), stddev);
      return inner.step(global, { sum: noisy, weight: fixed ?? count }, state);
    },
  };
}

import { ProtocolError } from '../errors';
import type { AccountingEvent } from './events';
import { rdpSampledGaussian } from './rdp-gaussian';
import { rdpSkellam } from './rdp-skellam';

/**
 * The Rényi DP accountant: every event becomes an RDP curve on one shared grid of orders α, curves
 * of a composition add (Mironov 2017, "Rényi Differential Privacy", Prop. 1), and the total is
 * converted to (ε, δ) at the best order.
 */

function buildDefaultOrders(): number[] {
  const orders: number[] = [];
  for (let i = 11; i <= 109; i++) orders.push(i / 10); // 1.1, 1.2, …, 10.9 (exact decimals)
  for (let a = 11; a <= 63; a++) orders.push(a);
  orders.push(128, 256, 512, 1024);
  return orders;
}

/**
 * The default order grid: 1.1 to 10.9 in steps of 0.1, then 11..63, then 128, 256, 512, 1024.
 * Dense at small α, where the optimum lies for ε of a few units; the large orders serve tiny δ.
 *
 * @example
 * DEFAULT_ORDERS.length; // 156
 */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze(buildDefaultOrders());

/**
 * The RDP curve of ONE step of an event (not yet multiplied by its steps).
 *
 * @example
 * const curve = rdpCurve({ mechanism: 'gaussian', noiseMultiplier: nm, samplingRate: 0.01, steps: 1 });
 */
export function rdpCurve(
  event: AccountingEvent,
  orders: readonly number[] = DEFAULT_ORDERS,
): Float64Array {
  const out = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) {
    const order = orders[k]!;
    switch (event.mechanism) {
      case 'gaussian':
        out[k] = rdpSampledGaussian({
          samplingRate: event.samplingRate,
          noiseMultiplier: event.noiseMultiplier,
          order,
        });
        break;
      case 'skellam':
        out[k] = rdpSkellam({ ...event.skellam, samplingRate: event.samplingRate, order });
        break;
    }
  }
  return out;
}

/**
 * Composes heterogeneous events: Σ steps·rdpCurve(event) over the shared order grid.
 *
 * @example
 * const total = composeRdp([roundsSoFar, proposedRound]);
 */
export function composeRdp(
  events: readonly AccountingEvent[],
  orders: readonly number[] = DEFAULT_ORDERS,
): Float64Array {
  const total = new Float64Array(orders.length);
  for (const e of events) {
    const curve = rdpCurve(e, orders);
    for (let k = 0; k < total.length; k++) total[k] = total[k]! + e.steps * curve[k]!;
  }
  return total;
}

/** (ε, δ) from an RDP curve: the ε and the order that attains it (null when every order is ∞). */
export interface RdpEpsilon {
  epsilon: number;
  order: number | null;
}

/**
 * Converts an RDP curve to (ε, δ)-DP with the bound of Canonne, Kamath & Steinke 2020, "The Discrete
 * Gaussian for Differential Privacy", Proposition 12 (arXiv:2004.00010v4); Balle et al. 2020,
 * "Hypothesis Testing Interpretations and Rényi DP" (AISTATS) derive the same bound:
 *   ε = min_α  rdp(α) + log((α − 1)/α) − (log δ + log α)/(α − 1),
 * clamped at 0. It is never worse than Mironov's rdp(α) + log(1/δ)/(α − 1).
 *
 * @example
 * rdpToEpsilon({ rdp: composeRdp(events), delta: 1e-5 }); // { epsilon: 2.1014, order: 7.8 } for σ=1, q=0.01, T=1000
 */
export function rdpToEpsilon(opts: {
  rdp: ArrayLike<number>;
  delta: number;
  orders?: readonly number[];
}): RdpEpsilon {
  const orders = opts.orders ?? DEFAULT_ORDERS;
  const { rdp, delta } = opts;
  if (rdp.length !== orders.length) {
    throw new ProtocolError(
      'InvalidArgument',
      `rdp has ${rdp.length} entries, orders ${orders.length}`,
    );
  }
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) {
    throw new ProtocolError('InvalidArgument', 'delta must be in (0, 1)');
  }
  const logDelta = Math.log(delta);
  let best = Infinity;
  let bestOrder: number | null = null;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    if (!(a > 1)) throw new ProtocolError('InvalidArgument', 'orders must be > 1');
    if (r < 0) throw new ProtocolError('InvalidArgument', 'rdp values must be ≥ 0');
    const eps = r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1);
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder };
}

/**
 * (ε, δ) of a composition of events by the RDP accountant.
 *
 * @example
 * rdpEpsilon({ events: [{ mechanism: 'gaussian', noiseMultiplier: nm, samplingRate: 0.01, steps: 1000 }], delta: 1e-5 });
 */
export function rdpEpsilon(opts: {
  events: readonly AccountingEvent[];
  delta: number;
  orders?: readonly number[];
}): RdpEpsilon {
  const orders = opts.orders ?? DEFAULT_ORDERS;
  return rdpToEpsilon({ rdp: composeRdp(opts.events, orders), delta: opts.delta, orders });
}

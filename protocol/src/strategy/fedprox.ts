import { z } from 'zod';
import { ProtocolError } from '../errors';

/**
 * FedProx's client-side configuration (Li, Sahu, Zaheer, Sanjabi, Talwalkar & Smith 2020,
 * "Federated Optimization in Heterogeneous Networks", MLSys): each node minimises
 * F_k(w) + μ/2·‖w − w_global‖² instead of F_k(w). μ = 0 is FedAvg's local training; a larger μ
 * keeps shops with unusual data (or more local epochs) closer to the global model, at the price of
 * slower progress. The paper tunes μ over {0.001, 0.01, 0.1, 1}. The server side is unchanged (any
 * {@link ServerOptimizer}).
 *
 * @example
 * const { mu } = fedProxConfig.parse({ mu: 0.01 });
 */
export const fedProxConfig = z.strictObject({
  mu: z.number().min(0, 'mu must be a finite number ≥ 0'),
});
/**
 * A parsed FedProx configuration, sent to the nodes with the training task.
 *
 * @example
 * const config: FedProxConfig = fedProxConfig.parse(task.fedProx);
 */
export type FedProxConfig = z.infer<typeof fedProxConfig>;

/**
 * The gradient of FedProx's proximal term μ/2·‖w − w_global‖², i.e. μ·(w − w_global) (the
 * proximal term of the local objective h_k in Li et al. 2020, §3), which the node's training loop
 * adds to the loss gradient at every local step.
 * Pure: returns a new Float32Array (computed in double, rounded once). Throws InvalidArgument
 * for bad types or μ, WrongLength when the vectors differ in length, InvalidInput naming the first
 * NaN/Infinity.
 *
 * @example
 * const prox = proximalGradient(w, wGlobal, 0.01);
 * for (let i = 0; i < grad.length; i++) grad[i] += prox[i];
 */
export function proximalGradient(w: Float32Array, wGlobal: Float32Array, mu: number): Float32Array {
  if (!(w instanceof Float32Array)) {
    throw new ProtocolError('InvalidArgument', 'w must be a Float32Array');
  }
  if (!(wGlobal instanceof Float32Array)) {
    throw new ProtocolError('InvalidArgument', 'wGlobal must be a Float32Array');
  }
  if (!fedProxConfig.shape.mu.safeParse(mu).success) {
    throw new ProtocolError('InvalidArgument', 'mu must be a finite number ≥ 0');
  }
  if (w.length !== wGlobal.length) {
    throw new ProtocolError(
      'WrongLength',
      `w has ${w.length} entries, wGlobal has ${wGlobal.length}`,
    );
  }
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const a = w[i]!;
    const b = wGlobal[i]!;
    if (!Number.isFinite(a)) throw new ProtocolError('InvalidInput', `w[${i}] is not finite`);
    if (!Number.isFinite(b)) throw new ProtocolError('InvalidInput', `wGlobal[${i}] is not finite`);
    out[i] = mu * (a - b);
  }
  return out;
}

import { ProtocolError } from '../errors';
import type { Aggregate, OptimizerKind, OptimizerState } from './types';

/**
 * Input checks shared by every server optimizer (CONVENTIONS rule 10: type and length first, with
 * an error naming the parameter; never a value of a vector in a message).
 */

function what(v: number): string {
  return Number.isNaN(v) ? 'NaN' : 'infinite';
}

/**
 * Checks `global` and `aggregate` before anything is computed from them. Throws InvalidArgument
 * (wrong types), WrongLength, or InvalidInput naming the first non-finite index or a total weight
 * that is not positive and finite.
 */
export function checkAggregate(global: Float32Array, aggregate: Aggregate): void {
  if (!(global instanceof Float32Array)) {
    throw new ProtocolError('InvalidArgument', 'global must be a Float32Array');
  }
  if (typeof aggregate !== 'object' || aggregate === null) {
    throw new ProtocolError('InvalidArgument', 'aggregate must be an object { sum, weight }');
  }
  const { sum, weight } = aggregate;
  if (!(sum instanceof Float64Array)) {
    throw new ProtocolError('InvalidArgument', 'aggregate.sum must be a Float64Array');
  }
  if (sum.length !== global.length) {
    throw new ProtocolError(
      'WrongLength',
      `aggregate.sum has ${sum.length} entries, the global model has ${global.length}`,
    );
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || !(weight > 0)) {
    throw new ProtocolError(
      'InvalidInput',
      `aggregate.weight must be a positive finite number, got ${String(weight)} (no contributors?)`,
    );
  }
  for (let i = 0; i < sum.length; i++) {
    if (!Number.isFinite(sum[i]!)) {
      throw new ProtocolError('InvalidInput', `aggregate.sum[${i}] is ${what(sum[i]!)}`);
    }
    if (!Number.isFinite(global[i]!)) {
      throw new ProtocolError('InvalidInput', `global[${i}] is ${what(global[i]!)}`);
    }
  }
}

/**
 * Checks the inputs ({@link checkAggregate}) and returns the mean update Δ̄ = sum / weight
 * (Reddi et al. 2021, Alg. 2, line 10, with weights).
 */
export function meanUpdate(global: Float32Array, aggregate: Aggregate): Float64Array {
  checkAggregate(global, aggregate);
  const { sum, weight } = aggregate;
  const mean = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) mean[i] = sum[i]! / weight;
  return mean;
}

/**
 * Checks that a previous state belongs to this optimizer and this model: InvalidArgument for a
 * state of another kind (a FedAdam state fed to FedYogi would silently mix moment rules),
 * WrongLength for another dimension.
 */
export function checkState<S extends OptimizerState>(
  state: OptimizerState,
  kind: OptimizerKind,
  dim: number,
): S {
  if (typeof state !== 'object' || state === null) {
    throw new ProtocolError('InvalidArgument', 'state must be an optimizer state or undefined');
  }
  if (state.kind !== kind) {
    throw new ProtocolError(
      'InvalidArgument',
      `optimizer state is for '${String(state.kind)}', this optimizer is '${kind}'`,
    );
  }
  if (state.dim !== dim) {
    throw new ProtocolError(
      'WrongLength',
      `optimizer state has dimension ${state.dim}, the global model has ${dim}`,
    );
  }
  if (state.kind !== 'fedavg') {
    if (!(state.m instanceof Float64Array) || !(state.v instanceof Float64Array)) {
      throw new ProtocolError('InvalidArgument', 'state.m and state.v must be Float64Arrays');
    }
    if (state.m.length !== dim || state.v.length !== dim) {
      throw new ProtocolError(
        'WrongLength',
        `optimizer state moments have ${state.m.length}/${state.v.length} entries, expected ${dim}`,
      );
    }
  }
  return state as S;
}

/**
 * Checks the new weights after they were rounded to float32: an overflow to ±Infinity (a diverging
 * server learning rate) is a NumericalFailure, not a model to store.
 */
export function checkWeights(out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) {
      throw new ProtocolError('NumericalFailure', `new weight [${i}] overflows float32`);
    }
  }
  return out;
}

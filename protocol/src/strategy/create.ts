import { fedAdagrad, fedAdam, fedYogi } from './adaptive';
import type { StrategyConfigInput } from './config';
import { parseConfig, StrategyConfigSchema } from './config';
import { fedAvg } from './fedavg';
import type { ServerOptimizer } from './types';

/**
 * Builds the server optimizer a configuration names — the one place where the coordinator and the
 * simulator turn a stored `{ kind, … }` into code, so both run the same optimizer. Throws
 * InvalidConfig naming the first bad field.
 *
 * @example
 * const optimizer = createOptimizer({ kind: 'fedyogi', eta: 0.03 });
 * const { weights, state } = optimizer.step(global, aggregate, previousState);
 */
export function createOptimizer(config: StrategyConfigInput): ServerOptimizer {
  const c = parseConfig(StrategyConfigSchema, config);
  switch (c.kind) {
    case 'fedavg':
      return fedAvg({ eta: c.eta });
    case 'fedadagrad':
      return fedAdagrad({ eta: c.eta, beta1: c.beta1, tau: c.tau });
    case 'fedadam':
      return fedAdam({ eta: c.eta, beta1: c.beta1, beta2: c.beta2, tau: c.tau });
    case 'fedyogi':
      return fedYogi({ eta: c.eta, beta1: c.beta1, beta2: c.beta2, tau: c.tau });
  }
}

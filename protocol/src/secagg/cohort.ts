import type { NodeId, RoundId } from '../brand';
import { nodeId, roundId } from '../brand';
import type { KeyPair } from '../crypto/primitives';
import { identityKeyPair } from '../crypto/primitives';
import type { SecAggConfig, SecAggConfigInput } from './config';
import { makeSecAggConfig } from './config';

/**
 * A cohort of fresh identities with a round configuration over them, for simulations, tests and
 * benchmarks (a coordinator builds its configuration from registered members instead).
 *
 * @example
 * const { config, identities } = generateCohort({ clients: 10, dim: 1000, clipRange: 1 });
 */
export function generateCohort(
  opts: { clients: number; round?: string } & Omit<SecAggConfigInput, 'roundId' | 'clients'>,
): { config: SecAggConfig; identities: KeyPair[]; ids: NodeId[]; roundId: RoundId } {
  const { clients, round, ...rest } = opts;
  const identities = Array.from({ length: clients }, () => identityKeyPair());
  const ids = identities.map((_, i) => nodeId(`member-${i}`));
  const rid = roundId(round ?? 'round-1');
  const config = makeSecAggConfig({
    ...rest,
    roundId: rid,
    clients: identities.map((k, i) => ({ id: ids[i]!, identityKey: k.publicKey })),
  });
  return { config, identities, ids, roundId: rid };
}

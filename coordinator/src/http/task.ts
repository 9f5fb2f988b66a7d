import { sha256, sign } from '@coopfl/protocol';
import type { KeyPair } from '@coopfl/protocol';
import type { RoundConfig } from '../rounds/round-config';

/**
 * Tasks and weights are signed by the coordinator's key, so a node (which pinned that key from its
 * invite's fingerprint) can verify them whatever sits between it and the coordinator.
 */
const encoder = new TextEncoder();

export interface SignedTask {
  /** JSON of {@link TaskBody}; the signature covers these exact bytes. */
  task: string;
  /** Ed25519 signature (hex) over "coopfl/task/v1\n" + task. */
  signature: string;
}
export interface TaskBody {
  round: RoundConfig;
  clientIndex: number;
  stage: string;
}

export function signTask(key: KeyPair, body: TaskBody): SignedTask {
  const task = JSON.stringify(body);
  const signature = sign(encoder.encode(`coopfl/task/v1\n${task}`), key.privateKey);
  return { task, signature: Buffer.from(signature).toString('hex') };
}

export function weightsSigningInput(
  modelId: string,
  version: number,
  weights: Uint8Array,
): Uint8Array {
  return encoder.encode(
    `coopfl/weights/v1\n${modelId}\n${version}\n${Buffer.from(sha256(weights)).toString('hex')}`,
  );
}

export function signWeights(
  key: KeyPair,
  modelId: string,
  version: number,
  weights: Uint8Array,
): string {
  return Buffer.from(sign(weightsSigningInput(modelId, version, weights), key.privateKey)).toString(
    'hex',
  );
}

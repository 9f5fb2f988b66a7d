import { hashCommit, kdf, x25519 } from '../crypto/primitives';
import type { SecAggConfig } from './config';

/**
 * Per-pair key derivation shared by clients and server (Bonawitz et al. 2017, Fig. 4):
 * s_uv = KDF(X25519(s_u^SK, s_v^PK)) for masks and c_uv = KDF(X25519(c_u^SK, c_v^PK)) for share
 * encryption, each bound to the round configuration and the unordered pair {u, v}.
 */
function pairContext(config: SecAggConfig, a: number, b: number): Uint8Array {
  const ctx = new Uint8Array(40);
  ctx.set(config.digest);
  const v = new DataView(ctx.buffer);
  v.setUint32(32, Math.min(a, b), true);
  v.setUint32(36, Math.max(a, b), true);
  return ctx;
}

/** KDF(X25519(mySecret, peerPublic)) bound to the round and the pair, under a purpose label. */
function pairKey(
  purpose: 'mask' | 'enc',
  config: SecAggConfig,
  mySecret: Uint8Array,
  peerPublic: Uint8Array,
  me: number,
  peer: number,
): Uint8Array {
  const shared = x25519(
    mySecret,
    peerPublic,
    `client ${peer} ${purpose === 'mask' ? 'mask' : 'encryption'}`,
  );
  try {
    return kdf(shared, `coopfl/secagg/v1/${purpose}`, pairContext(config, me, peer));
  } finally {
    shared.fill(0);
  }
}

/** The pairwise mask seed s_uv (identical from both ends). */
export const pairMaskSeed = (
  config: SecAggConfig,
  mySecret: Uint8Array,
  peerPublic: Uint8Array,
  me: number,
  peer: number,
) => pairKey('mask', config, mySecret, peerPublic, me, peer);

/** The symmetric key that encrypts the share messages between `me` and `peer`. */
export const pairEncryptionKey = (
  config: SecAggConfig,
  mySecret: Uint8Array,
  peerPublic: Uint8Array,
  me: number,
  peer: number,
) => pairKey('enc', config, mySecret, peerPublic, me, peer);

/** Associated data of a share ciphertext: binds round, sender and recipient. */
export function shareAd(config: SecAggConfig, from: number, to: number): Uint8Array {
  const ad = new Uint8Array(40);
  ad.set(config.digest);
  const v = new DataView(ad.buffer);
  v.setUint32(32, from, true);
  v.setUint32(36, to, true);
  return ad;
}

/** Commitment to a self-mask seed, published in the advertise stage. */
export function seedCommitment(seed: Uint8Array): Uint8Array {
  return hashCommit('coopfl/secagg/v1/seed', seed);
}

import { sha256 } from '@coopfl/protocol';
import type { RandomSource } from '@coopfl/protocol';

/** A random bearer token (base64url of 32 bytes) and the hash under which it is stored. */
export function newToken(
  random: RandomSource,
  prefix: string,
): { token: string; hash: Uint8Array } {
  const raw = new Uint8Array(32);
  random.fill(raw);
  const token = `${prefix}${Buffer.from(raw).toString('base64url')}`;
  return { token, hash: tokenHash(token) };
}

/** Tokens are stored only as SHA-256 hashes, so a database leak yields no usable token. */
export function tokenHash(token: string): Uint8Array {
  return sha256(new TextEncoder().encode(token));
}

import { ProtocolError } from '../errors';
import type { Share } from './shamir';
import { shamirReconstruct } from './shamir';

/**
 * Reconstructs a secret and checks it against its owner's commitment. With exactly t shares a bad
 * share is detected (ShareMismatch names the secret); with more than t, subsets leaving one share
 * out are tried too, so one tampered or corrupted share is tolerated. Never returns an unverified
 * secret, so a bad share cannot silently corrupt the aggregate.
 */
export function reconstructVerified(
  shares: readonly Share[],
  t: number,
  what: string,
  matches: (secret: Uint8Array) => boolean,
): Uint8Array {
  if (shares.length < t) {
    throw new ProtocolError(
      'TooFewShares',
      `${what}: ${shares.length} shares arrived, ${t} needed`,
    );
  }
  const attempts: (readonly Share[])[] = [shares];
  if (shares.length > t)
    for (let skip = 0; skip < shares.length; skip++)
      attempts.push(shares.filter((_, i) => i !== skip));
  for (const subset of attempts) {
    let secret: Uint8Array;
    try {
      secret = shamirReconstruct(subset, t);
    } catch (err) {
      if (err instanceof ProtocolError && err.code === 'ShareMismatch') continue;
      throw err;
    }
    if (matches(secret)) return secret;
    secret.fill(0);
  }
  throw new ProtocolError(
    'ShareMismatch',
    `${what} does not match its commitment (a share was tampered with)`,
  );
}

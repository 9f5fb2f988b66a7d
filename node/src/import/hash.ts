import { createHash, createHmac } from 'node:crypto';
import { CoopNodeError } from '../errors';

/** Minimum length of the node's pseudonymisation key (HMAC-SHA256 wants ≥ 32 bytes, RFC 2104 §3). */
export const MIN_HASH_KEY_BYTES = 32;

/** Checks a pseudonymisation key's type and length, naming the parameter. */
export function checkHashKey(hashKey: unknown, name = 'hashKey'): asserts hashKey is Uint8Array {
  if (!(hashKey instanceof Uint8Array) || hashKey.length < MIN_HASH_KEY_BYTES) {
    throw new CoopNodeError(
      'InvalidArgument',
      `${name} must be a Uint8Array of at least ${MIN_HASH_KEY_BYTES} bytes`,
    );
  }
}

/**
 * A keyed pseudonym: hex HMAC-SHA256 (RFC 2104) of `value` under the node's secret. Without the
 * key nobody (not the coordinator, not another shop) can test a guessed e-mail address against it,
 * which a plain hash would allow.
 *
 * @example
 * pseudonym(key, normalizeEmail('  Ann@Example.com ')); // '3f1c…' (64 hex digits)
 */
export function pseudonym(hashKey: Uint8Array, value: string): string {
  return createHmac('sha256', hashKey).update(value, 'utf8').digest('hex');
}

/** How e-mail addresses are normalised before hashing: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * A catalog key derived from a product *name* when a shop has no SKU: an unkeyed SHA-256 prefix
 * (so that shops selling the same item under the same name share it), marked `name:`.
 */
export function nameCatalogKey(name: string): string {
  const norm = name.trim().toLowerCase().replace(/\s+/g, ' ');
  return `name:${createHash('sha256').update(norm, 'utf8').digest('hex').slice(0, 24)}`;
}

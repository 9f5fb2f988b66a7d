import { ProtocolError } from '../errors';
import { checkBytes } from './check';
import { native, sodium } from './sodium';

/**
 * Thin, length-checked wrappers over libsodium for keys, signatures, agreement and AEAD, plus a
 * SHA-256 with a native fast path. Every function validates its inputs first and names the bad one.
 */
export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

const encoder = new TextEncoder();

/** Ed25519 long-term identity key pair (RFC 8032). privateKey is libsodium's 64-byte form. */
export function identityKeyPair(seed?: Uint8Array): KeyPair {
  const s = sodium();
  const kp = seed
    ? s.crypto_sign_seed_keypair(checkBytes('seed', seed, 32))
    : s.crypto_sign_keypair();
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** Ed25519 detached signature of `message`. */
export function sign(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  checkBytes('message', message);
  checkBytes('privateKey', privateKey, 64);
  return sodium().crypto_sign_detached(message, privateKey);
}

/** True when `signature` is a valid Ed25519 signature of `message` under `publicKey`. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  checkBytes('signature', signature, 64);
  checkBytes('message', message);
  checkBytes('publicKey', publicKey, 32);
  return sodium().crypto_sign_verify_detached(signature, message, publicKey);
}

/** Fresh X25519 key pair (RFC 7748) for one round's agreement. */
export function x25519KeyPair(): KeyPair {
  const kp = sodium().crypto_box_keypair();
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** The X25519 public key of a 32-byte private scalar. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  return sodium().crypto_scalarmult_base(checkBytes('privateKey', privateKey, 32));
}

/**
 * Raw X25519 shared secret. libsodium refuses low-order peer keys (an all-zero result), which we
 * surface as InvalidPublicKey naming `who`.
 */
export function x25519(
  privateKey: Uint8Array,
  peerPublicKey: Uint8Array,
  who = 'peer',
): Uint8Array {
  checkBytes('privateKey', privateKey, 32);
  checkBytes(`${who} public key`, peerPublicKey, 32);
  try {
    return sodium().crypto_scalarmult(privateKey, peerPublicKey);
  } catch (cause) {
    throw new ProtocolError('InvalidPublicKey', `${who} public key is of low order`, { cause });
  }
}

/**
 * Key derivation: BLAKE2b-256 keyed by the shared secret over a domain label and context. The raw
 * X25519 output is never used directly as a key (RFC 7748 §6.1 advises hashing it).
 */
export function kdf(secret: Uint8Array, label: string, context: Uint8Array): Uint8Array {
  checkBytes('secret', secret, 32);
  const l = encoder.encode(label);
  const msg = new Uint8Array(1 + l.length + context.length);
  msg[0] = l.length;
  msg.set(l, 1);
  msg.set(context, 1 + l.length);
  return sodium().crypto_generichash(32, msg, secret);
}

/** BLAKE2b-256 hash with a domain label, for commitments. */
export function hashCommit(label: string, data: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(
    32,
    data,
    sodium().crypto_generichash(32, encoder.encode(label), null),
  );
}

/** SHA-256; native under Node.js (GB/s), libsodium elsewhere; identical output. */
export function sha256(data: Uint8Array): Uint8Array {
  const nc = native();
  if (nc) {
    const d = nc.createHash('sha256').update(data).digest();
    return new Uint8Array(d.buffer, d.byteOffset, d.length);
  }
  return sodium().crypto_hash_sha256(data);
}

/** XChaCha20-Poly1305 encryption with a random 24-byte nonce; returns nonce || ciphertext. */
export function seal(key: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
  const s = sodium();
  checkBytes('key', key, 32);
  const nonce = s.randombytes_buf(24);
  const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
  const out = new Uint8Array(24 + ct.length);
  out.set(nonce);
  out.set(ct, 24);
  return out;
}

/** Opens what {@link seal} produced; DecryptFailed names `what` when authentication fails. */
export function open(
  key: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
  what: string,
): Uint8Array {
  checkBytes('key', key, 32);
  if (sealed.length < 24 + 16) {
    throw new ProtocolError('DecryptFailed', `${what} is too short to be a ciphertext`);
  }
  try {
    return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      sealed.subarray(24),
      ad,
      sealed.subarray(0, 24),
      key,
    );
  } catch (cause) {
    throw new ProtocolError('DecryptFailed', `${what} failed authentication`, { cause });
  }
}

/** Overwrites secret bytes with zeros. */
export function wipe(...secrets: (Uint8Array | undefined)[]): void {
  for (const s of secrets) if (s) sodium().memzero(s);
}

/** Constant-time equality of two byte strings of equal length. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium().memcmp(a, b);
}

/**
 * Argon2id password hash (libsodium pwhash, interactive limits) in the self-describing string
 * form, for admin accounts.
 */
export function hashPassword(password: string): string {
  const s = sodium();
  return s.crypto_pwhash_str(
    password,
    s.crypto_pwhash_OPSLIMIT_INTERACTIVE,
    s.crypto_pwhash_MEMLIMIT_INTERACTIVE,
  );
}

/** True when `password` matches a {@link hashPassword} string. */
export function verifyPassword(hash: string, password: string): boolean {
  try {
    return sodium().crypto_pwhash_str_verify(hash, password);
  } catch {
    return false;
  }
}

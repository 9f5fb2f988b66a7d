import { checkBytes, checkInt } from './check';
import { native, sodium } from './sodium';

/**
 * ChaCha20 (RFC 8439, "IETF": 96-bit nonce, 32-bit block counter) keystream.
 *
 * Two paths produce identical bytes (tested): `node:crypto` (OpenSSL, GB/s) when running under
 * Node.js, and libsodium's `crypto_stream_chacha20_ietf_xor_ic` (portable, ~30 MB/s). Bulk mask
 * expansion in secure aggregation must take the native path.
 */
export type KeystreamPath = 'native' | 'sodium';

const ZERO_NONCE = new Uint8Array(12);
let zeros = new Uint8Array(0);

function zeroBuffer(length: number): Uint8Array {
  if (zeros.length < length) zeros = new Uint8Array(Math.max(length, 2 * zeros.length));
  return zeros.subarray(0, length);
}

/** The path {@link chacha20Keystream} takes by default on this platform. */
export function defaultKeystreamPath(): KeystreamPath {
  return native() ? 'native' : 'sodium';
}

/**
 * Returns `length` bytes of ChaCha20 keystream for `key` and `nonce`, starting at block `counter`.
 *
 * @example
 * const ks = chacha20Keystream(key, 1024); // 1 KiB of keystream, nonce 0, counter 0
 */
export function chacha20Keystream(
  key: Uint8Array,
  length: number,
  opts: { nonce?: Uint8Array; counter?: number; path?: KeystreamPath } = {},
): Uint8Array {
  checkBytes('key', key, 32);
  checkInt('length', length, 0, 2 ** 32);
  const nonce = checkBytes('nonce', opts.nonce ?? ZERO_NONCE, 12);
  // libsodium-wrappers accepts block counters below 2^31 only (128 GiB of keystream).
  const counter = checkInt('counter', opts.counter ?? 0, 0, 2 ** 31 - 1);
  const path = opts.path ?? defaultKeystreamPath();
  if (path === 'native') {
    const nc = native();
    if (!nc) throw new Error('native keystream requested but node:crypto is unavailable');
    // OpenSSL's "chacha20" takes a 16-byte IV: 32-bit little-endian block counter || 96-bit nonce.
    const iv = new Uint8Array(16);
    new DataView(iv.buffer).setUint32(0, counter, true);
    iv.set(nonce, 4);
    const cipher = nc.createCipheriv('chacha20', key, iv);
    const out = cipher.update(zeroBuffer(length));
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
  return sodium().crypto_stream_chacha20_ietf_xor_ic(new Uint8Array(length), nonce, counter, key);
}

/**
 * Adds (sign = 1) or subtracts (sign = -1) the keystream of `seed`, read as little-endian 32-bit
 * words, into `acc` modulo 2^32. This is the PRG expansion of SecAgg (Bonawitz et al. 2017, §4).
 */
export function addKeystreamWords(
  acc: Uint32Array,
  seed: Uint8Array,
  sign: 1 | -1,
  path?: KeystreamPath,
): void {
  checkBytes('seed', seed, 32);
  // Int32 views and `| 0` keep V8 in wrapping 32-bit integer arithmetic (words above 2^31 would
  // otherwise be added as doubles); two's complement makes this the ring Z/2^32.
  const a = new Int32Array(acc.buffer, acc.byteOffset, acc.length);
  const bytes = chacha20Keystream(seed, acc.length * 4, path ? { path } : {});
  addWords(a, 0, toInt32(bytes, acc.length), sign);
}

function toInt32(bytes: Uint8Array, n: number): Int32Array {
  return bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, n)
    : new Int32Array(bytes.slice(0, n * 4).buffer);
}

function addWords(a: Int32Array, off: number, w: Int32Array, sign: 1 | -1): void {
  const n = w.length;
  if (sign === 1) {
    for (let i = 0; i < n; i++) a[off + i] = (a[off + i]! + w[i]!) | 0;
  } else {
    for (let i = 0; i < n; i++) a[off + i] = (a[off + i]! - w[i]!) | 0;
  }
}

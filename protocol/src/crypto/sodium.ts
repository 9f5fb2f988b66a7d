import type * as NodeCryptoModule from 'node:crypto';
import sodiumModule from 'libsodium-wrappers-sumo';
import { ProtocolError } from '../errors';

type NodeCrypto = typeof NodeCryptoModule;
export type Sodium = typeof sodiumModule;

let sodiumReady = false;
let nativeCrypto: NodeCrypto | undefined;
let initPromise: Promise<void> | undefined;

/**
 * Loads libsodium (WebAssembly) and, under Node.js, `node:crypto` for the native bulk paths
 * (ChaCha20 keystream, SHA-256). Call once before any other crypto function; later calls return
 * the same promise.
 *
 * @example
 * await cryptoReady();
 * const id = identityKeyPair();
 */
export function cryptoReady(): Promise<void> {
  initPromise ??= (async () => {
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
      throw new ProtocolError('Unsupported', 'CoopFL needs a little-endian platform');
    }
    await sodiumModule.ready;
    sodiumReady = true;
    const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
    if (isNode && process.env.COOPFL_PORTABLE_CRYPTO !== '1') {
      nativeCrypto = await import('node:crypto');
    }
  })();
  return initPromise;
}

/** The initialised libsodium instance; throws if {@link cryptoReady} has not resolved. */
export function sodium(): Sodium {
  if (!sodiumReady) {
    throw new ProtocolError('Unsupported', 'crypto used before cryptoReady() resolved');
  }
  return sodiumModule;
}

/** `node:crypto` when running under Node.js (and not forced portable), else undefined. */
export function native(): NodeCrypto | undefined {
  return nativeCrypto;
}

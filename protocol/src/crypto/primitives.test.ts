import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import x25519Vectors from './vectors/rfc7748-x25519.json';
import ed25519Vectors from './vectors/rfc8032-ed25519.json';
import { cryptoReady, sodium } from './sodium';
import {
  identityKeyPair,
  open,
  seal,
  sha256,
  sign,
  verify,
  x25519,
  x25519KeyPair,
  x25519PublicKey,
} from './primitives';
import { isProtocolError } from '../errors';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(cryptoReady);

describe('X25519 (RFC 7748)', () => {
  it.each(x25519Vectors.scalarmult)('scalar multiplication vector %#', (v) => {
    expect(toHex(x25519(hex(v.scalar), hex(v.u)))).toBe(v.output);
  });

  it('Diffie-Hellman vector of section 6.1', () => {
    const dh = x25519Vectors.diffieHellman;
    expect(toHex(x25519PublicKey(hex(dh.alicePrivate)))).toBe(dh.alicePublic);
    expect(toHex(x25519PublicKey(hex(dh.bobPrivate)))).toBe(dh.bobPublic);
    expect(toHex(x25519(hex(dh.alicePrivate), hex(dh.bobPublic)))).toBe(dh.shared);
    expect(toHex(x25519(hex(dh.bobPrivate), hex(dh.alicePublic)))).toBe(dh.shared);
  });

  it('refuses a low-order peer key with a named error', () => {
    const err = (() => {
      try {
        x25519(x25519KeyPair().privateKey, new Uint8Array(32), 'client 3');
      } catch (e) {
        return e;
      }
    })();
    expect(isProtocolError(err, 'InvalidPublicKey')).toBe(true);
    expect(String(err)).toContain('client 3');
  });

  it('rejects a key of the wrong length naming the parameter', () => {
    expect(() => x25519(new Uint8Array(31), new Uint8Array(32))).toThrow(
      /privateKey must be 32 bytes/,
    );
  });
});

describe('Ed25519 (RFC 8032)', () => {
  it.each(ed25519Vectors.cases)('test vector %#', (v) => {
    const kp = identityKeyPair(hex(v.secretKey));
    expect(toHex(kp.publicKey)).toBe(v.publicKey);
    const sig = sign(hex(v.message), kp.privateKey);
    expect(toHex(sig)).toBe(v.signature);
    expect(verify(sig, hex(v.message), kp.publicKey)).toBe(true);
  });

  it('a flipped bit in message or signature fails verification', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), (msg, bit) => {
        const kp = identityKeyPair();
        const sig = sign(msg, kp.privateKey);
        const m2 = msg.slice();
        m2[bit % m2.length]! ^= 1 << (bit % 8);
        const s2 = sig.slice();
        s2[bit % 64]! ^= 1 << (bit % 8);
        return !verify(sig, m2, kp.publicKey) && !verify(s2, msg, kp.publicKey);
      }),
      { numRuns: 50 },
    );
  });
});

describe('XChaCha20-Poly1305 share encryption', () => {
  it('round-trips and refuses tampering, a wrong key and wrong associated data', () => {
    const key = sodium().randombytes_buf(32);
    const ad = Uint8Array.of(1, 2, 3);
    const pt = Uint8Array.from({ length: 128 }, (_, i) => i);
    const sealed = seal(key, pt, ad);
    expect(open(key, sealed, ad, 'x')).toEqual(pt);
    const tampered = sealed.slice();
    tampered[40]! ^= 1;
    expect(() => open(key, tampered, ad, 'share from client 2')).toThrow(
      /DecryptFailed: share from client 2/,
    );
    expect(() => open(sodium().randombytes_buf(32), sealed, ad, 'x')).toThrow(/DecryptFailed/);
    expect(() => open(key, sealed, Uint8Array.of(1, 2, 4), 'x')).toThrow(/DecryptFailed/);
  });
});

describe('SHA-256', () => {
  it('native and libsodium paths agree with node:crypto as an oracle', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        const oracle = createHash('sha256').update(data).digest('hex');
        return (
          toHex(sha256(data)) === oracle && toHex(sodium().crypto_hash_sha256(data)) === oracle
        );
      }),
      { numRuns: 100 },
    );
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { identityKeyPair } from '../crypto/primitives';
import { seededRandom } from '../crypto/random';
import { readSignedHeaders, signRequest, verifyRequest } from './request';

beforeAll(cryptoReady);

describe('signed requests', () => {
  it('verify, and fail when any signed part changes', () => {
    const kp = identityKeyPair();
    const req = {
      method: 'POST',
      path: '/v1/rounds/r1/messages',
      memberId: 'shop-1',
      body: Uint8Array.of(1, 2, 3),
      timestamp: 1_700_000_000_000,
    };
    const headers = signRequest(req, kp.privateKey, seededRandom(1));
    const h = readSignedHeaders((n) => headers[n]);
    const parts = { ...req, timestamp: h.timestamp, nonce: h.nonce };
    expect(verifyRequest(parts, h.signature, kp.publicKey)).toBe(true);
    expect(
      verifyRequest({ ...parts, path: '/v1/rounds/r2/messages' }, h.signature, kp.publicKey),
    ).toBe(false);
    expect(verifyRequest({ ...parts, method: 'GET' }, h.signature, kp.publicKey)).toBe(false);
    expect(verifyRequest({ ...parts, memberId: 'shop-2' }, h.signature, kp.publicKey)).toBe(false);
    expect(
      verifyRequest({ ...parts, timestamp: parts.timestamp + 1 }, h.signature, kp.publicKey),
    ).toBe(false);
    expect(verifyRequest({ ...parts, nonce: '0'.repeat(32) }, h.signature, kp.publicKey)).toBe(
      false,
    );
    expect(
      verifyRequest({ ...parts, body: Uint8Array.of(1, 2, 4) }, h.signature, kp.publicKey),
    ).toBe(false);
    expect(verifyRequest(parts, h.signature, identityKeyPair().publicKey)).toBe(false);
  });

  it('names a missing or malformed header', () => {
    const kp = identityKeyPair();
    const headers = signRequest(
      { method: 'GET', path: '/', memberId: 'm', body: new Uint8Array() },
      kp.privateKey,
      seededRandom(2),
    );
    expect(() =>
      readSignedHeaders((n) => (n === 'x-coopfl-nonce' ? undefined : headers[n])),
    ).toThrow(/missing header x-coopfl-nonce/);
    expect(() =>
      readSignedHeaders((n) => (n === 'x-coopfl-timestamp' ? 'soon' : headers[n])),
    ).toThrow(/x-coopfl-timestamp is not a number/);
    expect(() =>
      readSignedHeaders((n) => (n === 'x-coopfl-signature' ? 'zz' : headers[n])),
    ).toThrow(/x-coopfl-signature must be 128 hex/);
  });
});

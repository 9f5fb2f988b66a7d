import { ProtocolError } from '../errors';
import { sha256, sign, verify } from '../crypto/primitives';
import type { RandomSource } from '../crypto/random';

/**
 * Signed HTTP requests from a member node to the coordinator (DESIGN §9). The node signs
 * "coopfl/request/v1", method, path (with query), member id, timestamp, nonce and SHA-256(body)
 * with its Ed25519 identity key. The coordinator checks the signature, that the timestamp is within
 * its freshness window, and that the nonce was not seen before for this member (replay). TLS is
 * deployed in front but not relied upon.
 */
export const REQUEST_HEADERS = {
  member: 'x-coopfl-member',
  timestamp: 'x-coopfl-timestamp',
  nonce: 'x-coopfl-nonce',
  signature: 'x-coopfl-signature',
} as const;

export interface RequestParts {
  method: string;
  /** Path and query exactly as sent, e.g. "/v1/rounds/r1/inbox?stage=keys". */
  path: string;
  memberId: string;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  /** 16 random bytes, hex. */
  nonce: string;
  body: Uint8Array;
}

const encoder = new TextEncoder();
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function signingInput(p: RequestParts): Uint8Array {
  return encoder.encode(
    [
      'coopfl/request/v1',
      p.method.toUpperCase(),
      p.path,
      p.memberId,
      String(p.timestamp),
      p.nonce,
      toHex(sha256(p.body)),
    ].join('\n'),
  );
}

/**
 * Signs a request; returns the headers to send with it.
 *
 * @example
 * const headers = signRequest({ method: 'POST', path: '/v1/rounds/r1/messages', memberId, body }, key, systemRandom());
 */
export function signRequest(
  req: Omit<RequestParts, 'timestamp' | 'nonce'> & { timestamp?: number },
  privateKey: Uint8Array,
  random: RandomSource,
): Record<string, string> {
  const nonceBytes = new Uint8Array(16);
  random.fill(nonceBytes);
  const parts: RequestParts = {
    ...req,
    timestamp: req.timestamp ?? Date.now(),
    nonce: toHex(nonceBytes),
  };
  const signature = sign(signingInput(parts), privateKey);
  return {
    [REQUEST_HEADERS.member]: parts.memberId,
    [REQUEST_HEADERS.timestamp]: String(parts.timestamp),
    [REQUEST_HEADERS.nonce]: parts.nonce,
    [REQUEST_HEADERS.signature]: toHex(signature),
  };
}

/** The signed fields of a request, parsed from its headers; throws MalformedMessage naming a bad one. */
export function readSignedHeaders(get: (name: string) => string | null | undefined): {
  memberId: string;
  timestamp: number;
  nonce: string;
  signature: Uint8Array;
} {
  const field = (name: string) => {
    const v = get(name);
    if (!v) throw new ProtocolError('MalformedMessage', `missing header ${name}`);
    return v;
  };
  const memberId = field(REQUEST_HEADERS.member);
  const ts = field(REQUEST_HEADERS.timestamp);
  const nonce = field(REQUEST_HEADERS.nonce);
  const sig = field(REQUEST_HEADERS.signature);
  if (!/^\d{1,16}$/.test(ts))
    throw new ProtocolError(
      'MalformedMessage',
      `header ${REQUEST_HEADERS.timestamp} is not a number`,
    );
  if (!/^[0-9a-f]{32}$/.test(nonce))
    throw new ProtocolError(
      'MalformedMessage',
      `header ${REQUEST_HEADERS.nonce} must be 32 hex digits`,
    );
  if (!/^[0-9a-f]{128}$/.test(sig))
    throw new ProtocolError(
      'MalformedMessage',
      `header ${REQUEST_HEADERS.signature} must be 128 hex digits`,
    );
  const signature = Uint8Array.from(sig.match(/../g)!, (h) => parseInt(h, 16));
  return { memberId, timestamp: Number(ts), nonce, signature };
}

/** True when `signature` signs this request under `publicKey`. Freshness and replay are the caller's. */
export function verifyRequest(
  parts: RequestParts,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  return verify(signature, signingInput(parts), publicKey);
}

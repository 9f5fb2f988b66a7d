export { ProtocolError, PROTOCOL_ERROR_CODES, isProtocolError } from './errors';
export type { ProtocolErrorCode } from './errors';
export { NodeIdSchema, RoundIdSchema, nodeId, roundId } from './brand';
export type { NodeId, RoundId } from './brand';
export { cryptoReady } from './crypto/sodium';
export {
  ChaChaRandom,
  systemRandom,
  seededRandom,
  randomUint32,
  randomBelow,
  randomUnit,
  randomWords,
} from './crypto/random';
export type { RandomSource } from './crypto/random';
export { chacha20Keystream, defaultKeystreamPath } from './crypto/keystream';
export type { KeystreamPath } from './crypto/keystream';
export { REQUEST_HEADERS, signRequest, readSignedHeaders, verifyRequest } from './auth/request';
export type { RequestParts } from './auth/request';
export {
  identityKeyPair,
  sign,
  verify,
  sha256,
  hashPassword,
  verifyPassword,
  bytesEqual,
} from './crypto/primitives';
export type { KeyPair } from './crypto/primitives';

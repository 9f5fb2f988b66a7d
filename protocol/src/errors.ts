/**
 * The one error class of `@coopfl/protocol`. Codes are a closed set so that the coordinator can map
 * each to a transport status in one place. Messages name what is wrong (a field, a client, a stage)
 * and never carry vectors, keys or secret material.
 *
 * @example
 * throw new ProtocolError('WrongLength', 'masked input from client "a" has 10 words, expected 11');
 */
export const PROTOCOL_ERROR_CODES = {
  /** A parameter passed to a protocol function is invalid (type, length or range). */
  InvalidArgument: 'InvalidArgument',
  /** A round configuration is inconsistent (threshold, neighbours, dimensions). */
  InvalidConfig: 'InvalidConfig',
  /** A binary message could not be decoded or failed schema validation. */
  MalformedMessage: 'MalformedMessage',
  /** A message's Ed25519 signature does not verify against the sender's identity key. */
  BadSignature: 'BadSignature',
  /** An AEAD ciphertext failed authentication (tampered or misaddressed). */
  DecryptFailed: 'DecryptFailed',
  /** A message names a client that is not part of the round. */
  UnknownClient: 'UnknownClient',
  /** A message belongs to another round. */
  WrongRound: 'WrongRound',
  /** A message arrived for a stage that is not the current one. */
  WrongStage: 'WrongStage',
  /** The same client sent a message for the same stage twice. */
  Replay: 'Replay',
  /** A vector has the wrong number of entries. */
  WrongLength: 'WrongLength',
  /** An input vector holds NaN/Infinity or values outside the configured range. */
  InvalidInput: 'InvalidInput',
  /** A public key is malformed or of low order. */
  InvalidPublicKey: 'InvalidPublicKey',
  /** Fewer clients remain than the round needs. */
  TooFewClients: 'TooFewClients',
  /** Not enough secret shares arrived to reconstruct a client's secret. */
  TooFewShares: 'TooFewShares',
  /** A reconstructed secret does not match its owner's commitment (a tampered share). */
  ShareMismatch: 'ShareMismatch',
  /** The server asked an honest client for both kinds of share of one peer. */
  BothSharesRequested: 'BothSharesRequested',
  /** The server's view of the round contradicts what this client knows. */
  InconsistentView: 'InconsistentView',
  /** The round has already finished or failed. */
  RoundClosed: 'RoundClosed',
  /** The platform lacks something the protocol needs (e.g. a little-endian CPU). */
  Unsupported: 'Unsupported',
  /** A proposed privacy event would take a member past its (ε, δ) budget. */
  BudgetExceeded: 'BudgetExceeded',
  /** A privacy event or budget is stated for a different privacy unit (member vs record). */
  PrivacyUnitMismatch: 'PrivacyUnitMismatch',
  /** A numerical routine (series, bisection, transform) did not converge or lost precision. */
  NumericalFailure: 'NumericalFailure',
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_CODES;

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Type guard that also narrows on the code when one is given. */
export function isProtocolError(err: unknown, code?: ProtocolErrorCode): err is ProtocolError {
  return err instanceof ProtocolError && (code === undefined || err.code === code);
}

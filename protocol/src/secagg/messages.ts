import { z } from 'zod';
import { ProtocolError } from '../errors';
import { sha256, sign, verify } from '../crypto/primitives';
import { SHARE_BYTES } from './shamir';
import { Reader, Writer } from './wire';

/**
 * Secure-aggregation messages. Clients refer to one another by their index in the round's
 * configuration (4 bytes on the wire). Client messages travel in a signed envelope:
 * body || Ed25519(identity key, "coopfl/secagg/v1" || config digest || SHA-256(body)), so a
 * signature binds the message to this round's exact configuration and cannot be replayed elsewhere.
 */
const u8a = (len?: number) =>
  z
    .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes')
    .refine((b) => len === undefined || b.length === len, `must be ${len} bytes`);
const index = z.number().int().min(0).max(65535);
const shareWords = z
  .custom<Uint32Array>((v) => v instanceof Uint32Array, 'must be 32-bit words')
  .refine((w) => w.length === SHARE_BYTES / 4 && w.every((v) => v < 65537), 'invalid share');

export const AdvertiseSchema = z.object({
  stage: z.literal('advertise'),
  roundId: z.string(),
  from: index,
  encPk: u8a(32),
  maskPk: u8a(32),
  seedCommit: u8a(32),
});
export const SharesSchema = z.object({
  stage: z.literal('shares'),
  roundId: z.string(),
  from: index,
  ciphertexts: z.array(z.object({ to: index, sealed: u8a() })),
});
export const MaskedSchema = z.object({
  stage: z.literal('masked'),
  roundId: z.string(),
  from: index,
  masked: z.custom<Uint32Array>((v) => v instanceof Uint32Array, 'must be 32-bit words'),
});
export const UnmaskSchema = z.object({
  stage: z.literal('unmask'),
  roundId: z.string(),
  from: index,
  seedShares: z.array(z.object({ of: index, y: shareWords })),
  keyShares: z.array(z.object({ of: index, y: shareWords })),
});
/**
 * A client that will not take part (its consent or privacy budget forbids the task, or it cannot
 * train: too little data) says so before advertising keys, so the advertise stage closes as soon
 * as everyone else has advertised instead of waiting for its deadline. `reason` is a short code
 * (`consent`, `budget`, `error`, …), never data.
 */
export const DeclineSchema = z.object({
  stage: z.literal('decline'),
  roundId: z.string(),
  from: index,
  reason: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a short lowercase code'),
});
export const ClientMessageSchema = z.discriminatedUnion('stage', [
  AdvertiseSchema,
  SharesSchema,
  MaskedSchema,
  UnmaskSchema,
  DeclineSchema,
]);
export type AdvertiseMsg = z.infer<typeof AdvertiseSchema>;
export type SharesMsg = z.infer<typeof SharesSchema>;
export type MaskedMsg = z.infer<typeof MaskedSchema>;
export type UnmaskMsg = z.infer<typeof UnmaskSchema>;
export type DeclineMsg = z.infer<typeof DeclineSchema>;
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const KeysSchema = z.object({
  stage: z.literal('keys'),
  roundId: z.string(),
  /** The signed advertise envelopes of this client's neighbours that advertised. */
  adverts: z.array(u8a()),
});
export const CiphertextsSchema = z.object({
  stage: z.literal('ciphertexts'),
  roundId: z.string(),
  items: z.array(z.object({ from: index, sealed: u8a() })),
});
export const UnmaskRequestSchema = z.object({
  stage: z.literal('unmaskRequest'),
  roundId: z.string(),
  survivors: z.array(index),
});
export const ServerMessageSchema = z.discriminatedUnion('stage', [
  KeysSchema,
  CiphertextsSchema,
  UnmaskRequestSchema,
]);
export type KeysMsg = z.infer<typeof KeysSchema>;
export type CiphertextsMsg = z.infer<typeof CiphertextsSchema>;
export type UnmaskRequestMsg = z.infer<typeof UnmaskRequestSchema>;
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

const MAGIC = 0x41534643; // "CFSA" little-endian
const VERSION = 1;
/**
 * Where a message's stage code sits (after the u32 magic and the u8 version) and a decline's code:
 * enough for a store to tell declines apart in a log of raw envelopes without decoding them.
 */
export const STAGE_CODE_OFFSET = 5;
export const DECLINE_STAGE_CODE = 5;
const STAGE_CODES = {
  advertise: 1,
  shares: 2,
  masked: 3,
  unmask: 4,
  decline: DECLINE_STAGE_CODE,
  keys: 11,
  ciphertexts: 12,
  unmaskRequest: 13,
} as const;
type Stage = keyof typeof STAGE_CODES;
const STAGE_BY_CODE = new Map(Object.entries(STAGE_CODES).map(([k, v]) => [v, k as Stage]));
const MAX_ITEMS = 65536;
const SIGNATURE_BYTES = 64;
const encoder = new TextEncoder();

function header(stage: Stage, roundId: string): Writer {
  return new Writer().u32(MAGIC).u8(VERSION).u8(STAGE_CODES[stage]).str(roundId);
}

function writeShares(w: Writer, list: { of: number; y: Uint32Array }[]): void {
  w.u32(list.length);
  for (const s of list) w.u32(s.of).raw(new Uint8Array(s.y.buffer, s.y.byteOffset, SHARE_BYTES));
}

/** Serialises a client message body (without the signature). */
export function encodeClientBody(msg: ClientMessage): Uint8Array {
  const w = header(msg.stage, msg.roundId).u32(msg.from);
  switch (msg.stage) {
    case 'advertise':
      return w.raw(msg.encPk).raw(msg.maskPk).raw(msg.seedCommit).finish();
    case 'shares':
      w.u32(msg.ciphertexts.length);
      for (const c of msg.ciphertexts) w.u32(c.to).bytes(c.sealed);
      return w.finish();
    case 'masked':
      return w.words(msg.masked).finish();
    case 'unmask':
      writeShares(w, msg.seedShares);
      writeShares(w, msg.keyShares);
      return w.finish();
    case 'decline':
      return w.str(msg.reason).finish();
  }
}

/** Serialises a server message. */
export function encodeServerMessage(msg: ServerMessage): Uint8Array {
  const w = header(msg.stage, msg.roundId);
  switch (msg.stage) {
    case 'keys':
      w.u32(msg.adverts.length);
      for (const a of msg.adverts) w.bytes(a);
      return w.finish();
    case 'ciphertexts':
      w.u32(msg.items.length);
      for (const c of msg.items) w.u32(c.from).bytes(c.sealed);
      return w.finish();
    case 'unmaskRequest':
      w.u32(msg.survivors.length);
      for (const s of msg.survivors) w.u32(s);
      return w.finish();
  }
}

function readHeader(r: Reader): { stage: Stage; roundId: string } {
  if (r.u32('magic') !== MAGIC)
    throw new ProtocolError('MalformedMessage', 'not a CoopFL SecAgg message');
  const version = r.u8('version');
  if (version !== VERSION) {
    throw new ProtocolError('MalformedMessage', `unsupported message version ${version}`);
  }
  const code = r.u8('stage');
  const stage = STAGE_BY_CODE.get(code as (typeof STAGE_CODES)[Stage]);
  if (!stage) throw new ProtocolError('MalformedMessage', `unknown stage code ${code}`);
  return { stage, roundId: r.str('roundId') };
}

function readShares(r: Reader, field: string): { of: number; y: Uint32Array }[] {
  const n = r.count(field, MAX_ITEMS);
  return Array.from({ length: n }, () => {
    const of = r.u32(`${field}.of`);
    const y = new Uint32Array(r.raw(SHARE_BYTES, `${field}.y`).buffer);
    return { of, y };
  });
}

function validated<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  throw new ProtocolError(
    'MalformedMessage',
    `${what}: ${issue?.path.join('.')} ${issue?.message}`,
  );
}

/** Parses a client message body; throws MalformedMessage naming the bad field. */
export function decodeClientBody(body: Uint8Array): ClientMessage {
  const r = new Reader(body, 'client message');
  const { stage, roundId } = readHeader(r);
  const from = r.u32('from');
  let msg: unknown;
  switch (stage) {
    case 'advertise':
      msg = {
        stage,
        roundId,
        from,
        encPk: r.raw(32, 'encPk'),
        maskPk: r.raw(32, 'maskPk'),
        seedCommit: r.raw(32, 'seedCommit'),
      };
      break;
    case 'shares': {
      const n = r.count('ciphertexts', MAX_ITEMS);
      const ciphertexts = Array.from({ length: n }, () => ({
        to: r.u32('to'),
        sealed: r.bytes('sealed', 4096),
      }));
      msg = { stage, roundId, from, ciphertexts };
      break;
    }
    case 'masked':
      msg = { stage, roundId, from, masked: r.words('masked') };
      break;
    case 'unmask':
      msg = {
        stage,
        roundId,
        from,
        seedShares: readShares(r, 'seedShares'),
        keyShares: readShares(r, 'keyShares'),
      };
      break;
    case 'decline':
      msg = { stage, roundId, from, reason: r.str('reason') };
      break;
    case 'keys':
    case 'ciphertexts':
    case 'unmaskRequest':
      throw new ProtocolError('MalformedMessage', `a client cannot send a ${stage} message`);
  }
  r.end();
  return validated(ClientMessageSchema, msg, `${stage} message`);
}

/** Parses a server message; throws MalformedMessage naming the bad field. */
export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  const r = new Reader(bytes, 'server message');
  const { stage, roundId } = readHeader(r);
  let msg: unknown;
  switch (stage) {
    case 'keys': {
      const n = r.count('adverts', MAX_ITEMS);
      msg = { stage, roundId, adverts: Array.from({ length: n }, () => r.bytes('advert', 4096)) };
      break;
    }
    case 'ciphertexts': {
      const n = r.count('items', MAX_ITEMS);
      msg = {
        stage,
        roundId,
        items: Array.from({ length: n }, () => ({
          from: r.u32('from'),
          sealed: r.bytes('sealed', 4096),
        })),
      };
      break;
    }
    case 'unmaskRequest': {
      const n = r.count('survivors', MAX_ITEMS);
      msg = { stage, roundId, survivors: Array.from({ length: n }, () => r.u32('survivor')) };
      break;
    }
    case 'advertise':
    case 'shares':
    case 'masked':
    case 'unmask':
    case 'decline':
      throw new ProtocolError('MalformedMessage', `a server cannot send a ${stage} message`);
  }
  r.end();
  return validated(ServerMessageSchema, msg, `${stage} message`);
}

function signingInput(configDigest: Uint8Array, body: Uint8Array): Uint8Array {
  const label = encoder.encode('coopfl/secagg/v1');
  const out = new Uint8Array(label.length + 32 + 32);
  out.set(label);
  out.set(configDigest, label.length);
  out.set(sha256(body), label.length + 32);
  return out;
}

/** Encodes and signs a client message: body || signature. */
export function sealClientMessage(
  msg: ClientMessage,
  identityPrivateKey: Uint8Array,
  configDigest: Uint8Array,
): Uint8Array {
  const body = encodeClientBody(msg);
  const sig = sign(signingInput(configDigest, body), identityPrivateKey);
  const out = new Uint8Array(body.length + SIGNATURE_BYTES);
  out.set(body);
  out.set(sig, body.length);
  return out;
}

/**
 * Decodes a signed client message and verifies its signature with the key `keyOf(from)` returns.
 * Throws MalformedMessage, UnknownClient (keyOf returns undefined) or BadSignature.
 */
export function openClientMessage(
  envelope: Uint8Array,
  configDigest: Uint8Array,
  keyOf: (from: number) => Uint8Array | undefined,
): ClientMessage {
  if (!(envelope instanceof Uint8Array) || envelope.length < SIGNATURE_BYTES) {
    throw new ProtocolError('MalformedMessage', 'client message is shorter than a signature');
  }
  const body = envelope.subarray(0, envelope.length - SIGNATURE_BYTES);
  const sig = envelope.subarray(envelope.length - SIGNATURE_BYTES);
  const msg = decodeClientBody(body);
  const key = keyOf(msg.from);
  if (!key)
    throw new ProtocolError('UnknownClient', `client index ${msg.from} is not in this round`);
  if (!verify(sig, signingInput(configDigest, body), key)) {
    throw new ProtocolError(
      'BadSignature',
      `${msg.stage} message from client ${msg.from} has a bad signature`,
    );
  }
  return msg;
}

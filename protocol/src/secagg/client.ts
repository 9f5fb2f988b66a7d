import { ProtocolError } from '../errors';
import type { KeyPair } from '../crypto/primitives';
import { open, seal, wipe, x25519KeyPair } from '../crypto/primitives';
import type { RandomSource } from '../crypto/random';
import { systemRandom } from '../crypto/random';
import { addKeystreamWords } from '../crypto/keystream';
import type { SecAggConfig } from './config';
import { shareSet } from './config';
import { pairEncryptionKey, pairMaskSeed, seedCommitment, shareAd } from './keys';
import type { AdvertiseMsg, ServerMessage } from './messages';
import { decodeServerMessage, openClientMessage, sealClientMessage } from './messages';
import { checkEncodable, encodeWeighted } from './quantize';
import { skellamVector } from '../dp/skellam';
import { SHARE_BYTES, shamirShare } from './shamir';
import type { Step } from './step';
import { guard } from './step';

/**
 * The client side of SecAgg / SecAgg+ (Bonawitz et al. 2017 §4 with the neighbour graph of Bell
 * et al. 2020), as one pure transition function over opaque message bytes:
 *
 *   start          → advertise (two X25519 public keys, a commitment to the self-mask seed b_u)
 *   keys           → shares    (Shamir shares of b_u and of the mask secret key, encrypted per peer)
 *   ciphertexts    → masked    (y_u = x_u + PRG(b_u) + Σ_{v>u} PRG(s_uv) − Σ_{v<u} PRG(s_uv))
 *   unmaskRequest  → unmask    (for each peer: the b share if it survived, else the key share —
 *                               never both for one peer, even across repeated requests)
 *
 * The input is (vector, weight); the server learns only Σ w·x and Σ w over the survivors.
 * A transition consumes its state: do not reuse a state after passing it to clientNext.
 */
export interface ClientInput {
  vector: ArrayLike<number>;
  weight?: number;
}

export interface ClientOptions {
  config: SecAggConfig;
  /** This client's index in config.ids. */
  index: number;
  /** The Ed25519 identity key pair registered for this client. */
  identity: KeyPair;
  input: ClientInput;
  /** Randomness for stochastic rounding, Shamir coefficients and noise (default: CSPRNG). */
  random?: RandomSource;
  /**
   * Distributed DP: Skellam noise with this per-client mean μ (variance 2μ, in quantized integer
   * units) added to every coordinate of the encoded update before masking, so the server never
   * sees a noiseless sum. Size μ with `distributedSkellamMu` so that any t survivors carry the
   * target variance, and reserve `noiseHeadroom` in the round configuration.
   */
  skellamMu?: number;
}

type PeerKeys = Pick<AdvertiseMsg, 'encPk' | 'maskPk' | 'seedCommit'>;
interface Held {
  seed: Uint32Array;
  key: Uint32Array;
}

export type ClientState =
  | { stage: 'ready'; o: Required<ClientOptions> }
  | { stage: 'advertised'; o: Required<ClientOptions>; secrets: Secrets }
  | {
      stage: 'shared';
      o: Required<ClientOptions>;
      secrets: Secrets;
      peers: Map<number, PeerKeys>;
      held: Map<number, Held>;
    }
  | {
      stage: 'masked';
      o: Required<ClientOptions>;
      secrets: Secrets;
      peers: Map<number, PeerKeys>;
      held: Map<number, Held>;
    }
  | {
      stage: 'done';
      o: Required<ClientOptions>;
      revealed: Map<number, 'seed' | 'key'>;
      reply: Uint8Array;
    };

interface Secrets {
  enc: KeyPair;
  mask: KeyPair;
  seed: Uint8Array;
  /** Symmetric per-peer share-encryption keys (the same key serves both directions). */
  pairKeys: Map<number, Uint8Array>;
}

export type ClientEvent = { type: 'start' } | { type: 'message'; bytes: Uint8Array };

export function createClient(options: ClientOptions): ClientState {
  const { config, index } = options;
  if (!Number.isInteger(index) || index < 0 || index >= config.ids.length) {
    throw new ProtocolError('InvalidArgument', `client index ${index} is not in this round`);
  }
  if (options.input.vector.length !== config.dim) {
    throw new ProtocolError(
      'WrongLength',
      `input has ${options.input.vector.length} entries, the round expects ${config.dim}`,
    );
  }
  // Fail fast on a bad input (NaN, out of range, bad weight) before any key is made.
  const random = options.random ?? systemRandom();
  checkEncodable(options.input.vector, options.input.weight ?? 1, config.quant);
  if (
    options.skellamMu !== undefined &&
    !(options.skellamMu >= 0 && Number.isFinite(options.skellamMu))
  ) {
    throw new ProtocolError(
      'InvalidArgument',
      `skellamMu must be a finite number ≥ 0, got ${options.skellamMu}`,
    );
  }
  if ((options.skellamMu ?? 0) > 0 && config.quant.noiseHeadroom === 0) {
    throw new ProtocolError(
      'InvalidConfig',
      'distributed noise needs noiseHeadroom reserved in the round configuration',
    );
  }
  return { stage: 'ready', o: { ...options, random, skellamMu: options.skellamMu ?? 0 } };
}

export function clientNext(state: ClientState, event: ClientEvent): Step<ClientState, Uint8Array> {
  return guard(state, () => {
    if (event.type === 'start') {
      if (state.stage !== 'ready') throw new ProtocolError('WrongStage', `client already started`);
      return advertise(state.o);
    }
    const msg = decodeServerMessage(event.bytes);
    if (msg.roundId !== state.o.config.roundId) {
      throw new ProtocolError('WrongRound', `message for round "${msg.roundId}"`);
    }
    const expected = {
      advertised: 'keys',
      shared: 'ciphertexts',
      masked: 'unmaskRequest',
    } as const;
    if (state.stage === 'done' && msg.stage === 'unmaskRequest')
      return repeatUnmask(state, msg.survivors);
    if (state.stage === 'ready' || state.stage === 'done' || msg.stage !== expected[state.stage]) {
      throw new ProtocolError('WrongStage', `${msg.stage} message while client is ${state.stage}`);
    }
    return dispatch(state, msg);
  });
}

function dispatch(state: ClientState, msg: ServerMessage): Step<ClientState, Uint8Array> {
  switch (msg.stage) {
    case 'keys':
      if (state.stage !== 'advertised') break;
      return shareKeys(state.o, state.secrets, msg.adverts);
    case 'ciphertexts':
      if (state.stage !== 'shared') break;
      return maskInput(state, msg.items);
    case 'unmaskRequest':
      if (state.stage !== 'masked') break;
      return unmask(state, msg.survivors);
  }
  throw new ProtocolError('WrongStage', `${msg.stage} message while client is ${state.stage}`);
}

function advertise(o: Required<ClientOptions>): Step<ClientState, Uint8Array> {
  const seed = new Uint8Array(32);
  o.random.fill(seed);
  const secrets: Secrets = {
    enc: x25519KeyPair(),
    mask: x25519KeyPair(),
    seed,
    pairKeys: new Map(),
  };
  const out = sealClientMessage(
    {
      stage: 'advertise',
      roundId: o.config.roundId,
      from: o.index,
      encPk: secrets.enc.publicKey,
      maskPk: secrets.mask.publicKey,
      seedCommit: seedCommitment(seed),
    },
    o.identity.privateKey,
    o.config.digest,
  );
  return { ok: true, state: { stage: 'advertised', o, secrets }, out: [out] };
}

function shareKeys(
  o: Required<ClientOptions>,
  secrets: Secrets,
  adverts: Uint8Array[],
): Step<ClientState, Uint8Array> {
  const { config, index: me } = o;
  const mine = new Set(config.graph[me]);
  const peers = new Map<number, PeerKeys>();
  for (const envelope of adverts) {
    const m = openClientMessage(envelope, config.digest, (from) =>
      mine.has(from) ? config.identityKeys[from] : undefined,
    );
    if (m.stage !== 'advertise' || m.roundId !== config.roundId) {
      throw new ProtocolError('MalformedMessage', `keys message carries a non-advertise entry`);
    }
    if (peers.has(m.from)) throw new ProtocolError('Replay', `client ${m.from} advertised twice`);
    peers.set(m.from, m);
  }
  const holders = [me, ...peers.keys()].sort((a, b) => a - b);
  if (holders.length < config.threshold) {
    throw new ProtocolError(
      'TooFewClients',
      `${holders.length} of this client's share set advertised keys, the threshold is ${config.threshold}`,
    );
  }
  const xs = holders.map((h) => h + 1);
  const seedShares = shamirShare(secrets.seed, xs, config.threshold, o.random);
  const keyShares = shamirShare(secrets.mask.privateKey, xs, config.threshold, o.random);
  const held = new Map<number, Held>();
  const ciphertexts: { to: number; sealed: Uint8Array }[] = [];
  holders.forEach((h, i) => {
    const pair = { seed: seedShares[i]!.y, key: keyShares[i]!.y };
    if (h === me) {
      held.set(me, pair);
      return;
    }
    const pt = new Uint8Array(2 * SHARE_BYTES);
    pt.set(new Uint8Array(pair.seed.buffer), 0);
    pt.set(new Uint8Array(pair.key.buffer), SHARE_BYTES);
    const key = pairEncryptionKey(config, secrets.enc.privateKey, peers.get(h)!.encPk, me, h);
    secrets.pairKeys.set(h, key);
    ciphertexts.push({ to: h, sealed: seal(key, pt, shareAd(config, me, h)) });
    wipe(pt);
  });
  const out = sealClientMessage(
    { stage: 'shares', roundId: config.roundId, from: me, ciphertexts },
    o.identity.privateKey,
    config.digest,
  );
  return { ok: true, state: { stage: 'shared', o, secrets, peers, held }, out: [out] };
}

function maskInput(
  state: Extract<ClientState, { stage: 'shared' }>,
  items: { from: number; sealed: Uint8Array }[],
): Step<ClientState, Uint8Array> {
  const { o, secrets, peers } = state;
  const { config, index: me } = o;
  const held = new Map(state.held);
  for (const { from, sealed } of items) {
    const pk = peers.get(from);
    if (!pk) throw new ProtocolError('UnknownClient', `ciphertext from client ${from}, not a peer`);
    if (held.has(from)) throw new ProtocolError('Replay', `two ciphertexts from client ${from}`);
    const key = secrets.pairKeys.get(from);
    if (!key)
      throw new ProtocolError(
        'UnknownClient',
        `ciphertext from client ${from}, which this client did not share with`,
      );
    const pt = open(key, sealed, shareAd(config, from, me), `share ciphertext from client ${from}`);
    if (pt.length !== 2 * SHARE_BYTES) {
      throw new ProtocolError(
        'MalformedMessage',
        `share plaintext from client ${from} has the wrong size`,
      );
    }
    const seed = new Uint32Array(pt.slice(0, SHARE_BYTES).buffer);
    const keyShare = new Uint32Array(pt.slice(SHARE_BYTES).buffer);
    if (![...seed, ...keyShare].every((v) => v < 65537)) {
      throw new ProtocolError('MalformedMessage', `share from client ${from} is outside the field`);
    }
    held.set(from, { seed, key: keyShare });
  }
  const masked = encodeWeighted(o.input.vector, o.input.weight ?? 1, config.quant, o.random);
  if (o.skellamMu > 0) {
    // Noise on the update coordinates (not on the public weight), in the ring, before masking.
    const noise = skellamVector(o.random, { length: config.dim, mu: o.skellamMu });
    const words = new Int32Array(masked.buffer);
    for (let i = 0; i < noise.length; i++) words[i] = (words[i]! + noise[i]!) | 0;
  }
  addKeystreamWords(masked, secrets.seed, 1);
  for (const peer of held.keys()) {
    if (peer === me) continue;
    const s = pairMaskSeed(config, secrets.mask.privateKey, peers.get(peer)!.maskPk, me, peer);
    addKeystreamWords(masked, s, peer > me ? 1 : -1);
    wipe(s);
  }
  const out = sealClientMessage(
    { stage: 'masked', roundId: config.roundId, from: me, masked },
    o.identity.privateKey,
    config.digest,
  );
  return { ok: true, state: { ...state, stage: 'masked', held }, out: [out] };
}

/** Which share of each held peer a survivor list asks for, after checking it for consistency. */
function requested(
  o: Required<ClientOptions>,
  held: ReadonlySet<number>,
  survivors: number[],
): Map<number, 'seed' | 'key'> {
  const { config, index: me } = o;
  const alive = new Set(survivors);
  if (alive.size !== survivors.length) {
    throw new ProtocolError('InconsistentView', 'the survivor list repeats a client');
  }
  if (!alive.has(me)) {
    throw new ProtocolError(
      'InconsistentView',
      'the server lists this client as dropped after its masked input',
    );
  }
  if (alive.size < config.minSurvivors) {
    throw new ProtocolError(
      'TooFewClients',
      `${alive.size} survivors, the round needs at least ${config.minSurvivors}`,
    );
  }
  for (const v of shareSet(config, me)) {
    if (alive.has(v) && !held.has(v)) {
      throw new ProtocolError(
        'InconsistentView',
        `client ${v} is listed as a survivor but never shared keys with this client`,
      );
    }
  }
  return new Map([...held].map((v) => [v, alive.has(v) ? 'seed' : 'key']));
}

function unmask(
  state: Extract<ClientState, { stage: 'masked' }>,
  survivors: number[],
): Step<ClientState, Uint8Array> {
  const { o, held, secrets } = state;
  const revealed = requested(o, new Set(held.keys()), survivors);
  const seedShares: { of: number; y: Uint32Array }[] = [];
  const keyShares: { of: number; y: Uint32Array }[] = [];
  for (const [peer, kind] of revealed) {
    const h = held.get(peer)!;
    (kind === 'seed' ? seedShares : keyShares).push({
      of: peer,
      y: kind === 'seed' ? h.seed : h.key,
    });
  }
  const reply = sealClientMessage(
    { stage: 'unmask', roundId: o.config.roundId, from: o.index, seedShares, keyShares },
    o.identity.privateKey,
    o.config.digest,
  );
  // The round's secrets are no longer needed by this client.
  wipe(secrets.seed, secrets.enc.privateKey, secrets.mask.privateKey, ...secrets.pairKeys.values());
  for (const h of held.values()) {
    h.seed.fill(0);
    h.key.fill(0);
  }
  return { ok: true, state: { stage: 'done', o, revealed, reply }, out: [reply] };
}

/**
 * A repeated unmask request (e.g. a lost response over HTTP) gets the same reply; one that asks
 * for the other kind of share of any peer is refused — revealing both would unmask that peer.
 */
function repeatUnmask(
  state: Extract<ClientState, { stage: 'done' }>,
  survivors: number[],
): Step<ClientState, Uint8Array> {
  const again = requested(state.o, new Set(state.revealed.keys()), survivors);
  for (const [peer, kind] of again) {
    if (state.revealed.get(peer) !== kind) {
      throw new ProtocolError(
        'BothSharesRequested',
        `the server asked for the ${kind} share of client ${peer} after receiving its ${state.revealed.get(peer)} share`,
      );
    }
  }
  return { ok: true, state, out: [state.reply] };
}

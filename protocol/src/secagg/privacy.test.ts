import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady } from '../crypto/sodium';
import { seededRandom } from '../crypto/random';
import { chiSquareSurvival } from '../dp/stats';
import type { ClientInput, ClientState } from './client';
import { clientNext, createClient } from './client';
import { generateCohort } from './cohort';
import { decodeClientBody } from './messages';
import { encodeWeighted } from './quantize';
import type { ServerState } from './server';
import { createServer, serverNext } from './server';

beforeAll(cryptoReady);

const N = 3;
const DIM = 20_000;
/** Rejecting at p < 1e-6: an honest masked input fails this check with probability 1e-6. */
const ALPHA = 1e-6;

/** Runs the first three stages for real and returns client 0's masked input words. */
function maskedInputOf(plaintext: (i: number) => ClientInput): Uint32Array {
  const { config, identities } = generateCohort({ clients: N, dim: DIM, clipRange: 1 });
  const clients: ClientState[] = Array.from({ length: N }, (_, index) =>
    createClient({ config, index, identity: identities[index]!, input: plaintext(index) }),
  );
  let server: ServerState = createServer(config);
  let toClients = new Map<number, Uint8Array>();
  let masked: Uint32Array | undefined;
  for (let stage = 0; stage < 3; stage++) {
    const out: Uint8Array[] = [];
    for (let i = 0; i < N; i++) {
      const msg = toClients.get(i);
      const step = clientNext(
        clients[i]!,
        msg ? { type: 'message', bytes: msg } : { type: 'start' },
      );
      if (!step.ok) throw step.error;
      clients[i] = step.state;
      out.push(step.out[0]!);
    }
    if (stage === 2) {
      const body = decodeClientBody(out[0]!.subarray(0, out[0]!.length - 64));
      if (body.stage === 'masked') masked = body.masked;
    }
    toClients = new Map();
    for (const bytes of out) {
      const step = serverNext(server, { type: 'message', bytes });
      if (!step.ok) throw step.error;
      server = step.state;
      for (const o of step.out) toClients.set(o.to, o.bytes);
    }
  }
  return masked!;
}

/** p-value of Pearson's chi-square test that the bytes are uniform over 0..255 (255 d.o.f.). */
function byteUniformity(words: Uint32Array): number {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]! += 1;
  const expected = bytes.length / 256;
  let stat = 0;
  for (const c of counts) stat += (c - expected) ** 2 / expected;
  return chiSquareSurvival(stat, 255);
}

describe('a masked input is independent of its plaintext', () => {
  const plaintexts: Record<string, (i: number) => ClientInput> = {
    'all zeros': () => ({ vector: new Float64Array(DIM) }),
    'all at the clip bound': () => ({ vector: new Float64Array(DIM).fill(1) }),
    'a ramp': () => ({ vector: Float64Array.from({ length: DIM }, (_, j) => (j % 200) / 100 - 1) }),
  };

  it.each(Object.keys(plaintexts))('%s: the masked bytes pass a uniformity test', (name) => {
    expect(byteUniformity(maskedInputOf(plaintexts[name]!))).toBeGreaterThan(ALPHA);
  });

  it('negative control: the unmasked encoding fails the same test', () => {
    const q = encodeWeighted(
      new Float64Array(DIM),
      1,
      { clients: N, clipRange: 1, maxWeight: 1 },
      seededRandom(1),
    );
    expect(byteUniformity(q)).toBeLessThan(ALPHA);
  });
});

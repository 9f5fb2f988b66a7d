import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, seededRandom } from '../index';
import type { ServerState } from './index';
import {
  clientNext,
  cloneServerState,
  createClient,
  createServer,
  generateCohort,
  maskedTotals,
  serverNext,
} from './index';
import { randomInputs } from './testkit';

beforeAll(cryptoReady);

/** Everything a transition may change, as plain data. */
function snapshot(s: ServerState) {
  if (s.stage === 'done' || s.stage === 'failed') return { stage: s.stage };
  return {
    stage: s.stage,
    adverts: [...s.adverts.keys()],
    declined: [...s.declined],
    u1: [...s.u1],
    shares: [...s.shares.keys()],
    u2: [...s.u2],
    sum: Array.from(s.sum),
    u3: [...s.u3],
    unmasks: [...s.unmasks.keys()],
  };
}

/**
 * A 4-client round in which every message is first applied to a clone that is then dropped (as a
 * driver does when storing it fails), checking that the server's own state did not change.
 */
function roundThroughClones(): { result: ServerState; beforeLastUnmask: ServerState } {
  const { config, identities } = generateCohort({ clients: 4, dim: 8, clipRange: 1 });
  const inputs = randomInputs(seededRandom(5), 4, 8);
  let clients = inputs.map((input, index) =>
    createClient({ config, index, identity: identities[index]!, input }),
  );
  let server: ServerState = createServer(config);
  let beforeLastUnmask = server;
  let inbox = new Map<number, Uint8Array>();
  for (let stage = 0; stage < 4; stage++) {
    const next = new Map<number, Uint8Array>();
    clients = clients.map((c, i) => {
      const step = clientNext(
        c,
        stage === 0 ? { type: 'start' } : { type: 'message', bytes: inbox.get(i)! },
      );
      if (!step.ok) throw step.error;
      const bytes = step.out[0]!;
      const before = snapshot(server);
      const tentative = serverNext(cloneServerState(server), { type: 'message', bytes });
      if (!tentative.ok) throw tentative.error;
      expect(snapshot(server)).toEqual(before);
      if (stage === 3 && i === 3) beforeLastUnmask = server;
      const s = serverNext(server, { type: 'message', bytes });
      if (!s.ok) throw s.error;
      server = s.state;
      for (const o of s.out) next.set(o.to, o.bytes);
      return step.state;
    });
    inbox = next;
  }
  return { result: server, beforeLastUnmask };
}

describe('cloneServerState', () => {
  it('a clone takes every transition while the original stays as it was', () => {
    const { result, beforeLastUnmask } = roundThroughClones();
    expect(result.stage).toBe('done');
    // Unmasking works on its own copy: the masked stage's sum is not consumed by the result.
    const sum = Array.from(maskedTotals(beforeLastUnmask)!.sum);
    const again = serverNext(cloneServerState(beforeLastUnmask), {
      type: 'deadline',
      stage: 'unmask',
    });
    expect(Array.from(maskedTotals(beforeLastUnmask)!.sum)).toEqual(sum);
    expect(again.state.stage).toBe('done');
    if (result.stage === 'done' && again.state.stage === 'done') {
      expect(Array.from(again.state.result.sum)).toEqual(Array.from(result.result.sum));
    }
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { cryptoReady, seededRandom } from '../index';
import type { ServerState } from './index';
import {
  clientNext,
  createClient,
  createServer,
  generateCohort,
  maskedTotals,
  serverNext,
} from './index';
import { randomInputs } from './testkit';

beforeAll(cryptoReady);

/** Drives a 4-client round to the masked stage and returns the server and client states. */
function toMasked() {
  const { config, identities } = generateCohort({ clients: 4, dim: 8, clipRange: 1 });
  const inputs = randomInputs(seededRandom(3), 4, 8);
  let clients = inputs.map((input, index) =>
    createClient({ config, index, identity: identities[index]!, input }),
  );
  let server: ServerState = createServer(config);
  let inbox = new Map<number, Uint8Array>();
  for (let stage = 0; stage < 3; stage++) {
    const next = new Map<number, Uint8Array>();
    clients = clients.map((c, i) => {
      const step = clientNext(
        c,
        stage === 0 ? { type: 'start' } : { type: 'message', bytes: inbox.get(i)! },
      );
      if (!step.ok) throw step.error;
      if (stage < 2) {
        const s = serverNext(server, { type: 'message', bytes: step.out[0]! });
        if (!s.ok) throw s.error;
        server = s.state;
        for (const o of s.out) next.set(o.to, o.bytes);
      } else next.set(i, step.out[0]!);
      return step.state;
    });
    inbox = next;
  }
  return { config, server, masked: inbox };
}

describe('masked-stage checkpoint', () => {
  it('restores the same unmask requests as receiving the inputs one by one', () => {
    const { server, masked } = toMasked();
    expect(server.stage).toBe('masked');
    let live = server;
    let out: { to: number; bytes: Uint8Array }[] = [];
    for (const bytes of masked.values()) {
      const s = serverNext(live, { type: 'message', bytes });
      if (!s.ok) throw s.error;
      live = s.state;
      out = s.out;
    }
    const totals = maskedTotals(live)!;
    const { server: fresh } = toMasked();
    const restored = serverNext(fresh, { type: 'checkpoint', stage: 'masked', ...totals });
    if (!restored.ok) throw restored.error;
    expect(restored.state.stage).toBe('unmask');
    expect(restored.out).toEqual(out);
    expect(maskedTotals(restored.state)!.sum).toEqual(totals.sum);
  });

  it('is refused with a named reason when it cannot be right', () => {
    const { server, config } = toMasked();
    const sum = new Uint32Array(config.dim + 1);
    const bad = (survivors: number[], s = sum) => {
      const step = serverNext(server, { type: 'checkpoint', stage: 'masked', survivors, sum: s });
      return step.ok ? 'accepted' : step.error.message;
    };
    expect(bad([0, 1], new Uint32Array(3))).toMatch(/^MalformedMessage: .*has 3 words/);
    expect(bad([0, 9])).toMatch(/did not send shares/);
    expect(bad([1, 1])).toMatch(/or one twice/);
    const advertising = serverNext(createServer(config), {
      type: 'checkpoint',
      stage: 'masked',
      survivors: [0],
      sum,
    });
    expect(advertising.ok ? 'accepted' : advertising.error.message).toMatch(/advertise stage/);
  });
});

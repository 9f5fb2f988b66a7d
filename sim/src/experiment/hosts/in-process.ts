import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '@coopfl/protocol';
import type { ModelKind } from '@coopfl/protocol/models';
import type { Transport } from '@coopfl/coordinator/client';
import { importCanonical } from '@coopfl/node/import';
import type { ModelRuntime } from '@coopfl/node/models';
import {
  MODEL_RUNTIMES,
  personalizeWeights,
  trainSelected,
  validationValue,
} from '@coopfl/node/models';
import type { NodeHandle } from '@coopfl/node/runtime';
import { initNode, openNode } from '@coopfl/node/runtime';
import type { OpenedStore } from '@coopfl/node/store';
import type { TrainableData } from '../arms';
import { metricValues } from '../arms';
import { maliciousRuntimes } from '../malicious';
import { ReseedableRandom, deriveSeed } from '../random';
import { cachedPrepare } from './cached-prepare';
import type {
  EvaluateInput,
  HostSettings,
  JoinedNode,
  KindInput,
  NodeBaselines,
  NodeHost,
  NodeMetrics,
  NodeSpec,
  NodeTrainingData,
  PrepareInput,
  PrepareOutcome,
  RoundCounts,
  RoundJob,
  Tick,
  TrainInput,
} from './host';
import { openStoreCopy } from './store-template';

/** How the node loops are driven (timing knobs of the real client loop). */
const RUN_OPTIONS = { channelPollMs: 5_000, initialBackoffMs: 200, maxBackoffMs: 2_000 };

/** `f()` as a promise: its exception becomes a rejection (as from an async host). */
const settled = <T>(f: () => T): Promise<T> => new Promise<T>((resolve) => resolve(f()));

const HONEST = MODEL_RUNTIMES as Partial<Record<ModelKind, ModelRuntime>>;

interface HostedNode {
  readonly spec: NodeSpec;
  readonly store: OpenedStore;
  readonly node: NodeHandle;
  /** Re-seeded before each round (reproducible shuffles and SecAgg draws). */
  readonly random: ReseedableRandom;
  /** The node's model runtimes, with data preparation cached (see {@link cachedPrepare}). */
  readonly runtimes: Partial<Record<ModelKind, ModelRuntime>>;
}

/**
 * A {@link NodeHost} whose nodes run in the caller's thread. Each node has its own store (a copy
 * of the store template, opened by the node's `openStore`) and reaches the coordinator over HTTP,
 * or through `transport` when given. Evaluation, the local-only and fine-tuned arms and the
 * baselines use the stock runtimes on the data the node itself prepared; a malicious node's
 * wrapped runtime only changes its federated updates.
 *
 * @example
 * const host = new InProcessHost({ seed: 1, coordinatorUrl, storeTemplate });
 * await host.open({ specs });
 */
export class InProcessHost implements NodeHost {
  readonly #o: HostSettings & { readonly transport?: Transport };
  readonly #nodes: HostedNode[] = [];
  /** Each kind's last preparation: usable data by node index (null: skipped). */
  readonly #prepared = new Map<ModelKind, Map<number, TrainableData | null>>();

  constructor(o: HostSettings & { readonly transport?: Transport }) {
    this.#o = o;
  }

  async open(input: { readonly specs: readonly NodeSpec[] }, tick?: Tick): Promise<JoinedNode[]> {
    const transport = this.#o.transport ? { transport: this.#o.transport } : {};
    const out: JoinedNode[] = [];
    for (const spec of input.specs) {
      await mkdir(spec.dir, { recursive: true });
      const storeDir = join(spec.dir, 'store');
      const store = await openStoreCopy(this.#o.storeTemplate, storeDir);
      let node: NodeHandle | undefined;
      try {
        const joined = await initNode({
          dir: spec.dir,
          coordinatorUrl: this.#o.coordinatorUrl,
          invite: spec.invite,
          name: `Shop ${spec.storeId}`.slice(0, 100),
          storeDb: storeDir,
          store,
          ...transport,
        });
        const random = new ReseedableRandom(deriveSeed(this.#o.seed, 'node', spec.index));
        const runtimes = cachedPrepare(
          spec.attack ? maliciousRuntimes(HONEST, spec.attack) : HONEST,
        );
        node = await openNode(spec.dir, { store, random, runtimes, ...transport });
        await importCanonical(node.db, spec.csvDir, { batchSize: 5000 });
        this.#nodes.push({ spec, store, node, random, runtimes });
        out.push({ index: spec.index, memberId: joined.memberId, status: joined.status });
      } catch (err) {
        await node?.close().catch(() => undefined);
        await store.close().catch(() => undefined);
        throw err;
      }
      tick?.();
    }
    return out;
  }

  async prepare(input: PrepareInput, tick?: Tick): Promise<PrepareOutcome[]> {
    const { kind, arch } = input;
    const data = new Map<number, TrainableData | null>();
    const out: PrepareOutcome[] = [];
    for (const x of this.#nodes) {
      const index = x.spec.index;
      try {
        // The node's own (cached) preparation: the very data its client loop trains on.
        const own = x.runtimes[kind] ?? HONEST[kind]!;
        const d = (await own.prepare(await x.node.source(), { arch })) as TrainableData;
        const usable = d.counts.train > 0 && d.counts.test > 0;
        data.set(index, usable ? d : null);
        out.push({
          index,
          counts: { ...d.counts },
          skipped: usable ? null : 'no training or test examples',
        });
      } catch (err) {
        data.set(index, null);
        const reason =
          err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : String(err);
        out.push({ index, counts: null, skipped: reason });
      }
      tick?.();
    }
    this.#prepared.set(kind, data);
    return out;
  }

  async runRound(job: RoundJob): Promise<RoundCounts> {
    for (const x of this.#nodes) {
      x.random.reseed(deriveSeed(this.#o.seed, 'node', x.spec.index, job.kind, job.round));
    }
    const online = new Set(job.online);
    const late = new Set(job.late);
    const counts = { refusals: 0, errors: 0, clipped: 0 };
    await Promise.all(
      this.#nodes
        .filter((x) => online.has(x.spec.index))
        .map(async (x) => {
          if (late.has(x.spec.index)) await new Promise((r) => setTimeout(r, job.delayMs));
          await x.node.run({
            once: true,
            ...RUN_OPTIONS,
            onEvent: (e) => {
              if (!('roundId' in e) || e.roundId !== job.roundId) return;
              if (e.type === 'refused') counts.refusals++;
              if (e.type === 'round-error') counts.errors++;
              if (e.type === 'trained' && e.clipped) counts.clipped++;
            },
          });
        }),
    );
    return counts;
  }

  evaluate(input: EvaluateInput): Promise<NodeMetrics[]> {
    const runtime = HONEST[input.kind]!;
    return settled(() =>
      [...this.#data(input.kind)].map(([index, d]) => ({
        index,
        metrics: d
          ? metricValues(runtime.evaluate(input.arch, input.weights, d, input.split))
          : null,
      })),
    );
  }

  async train(input: TrainInput, tick?: Tick): Promise<NodeMetrics[]> {
    const runtime = HONEST[input.kind]!;
    const data = this.#data(input.kind);
    const out: NodeMetrics[] = [];
    for (const job of input.jobs) {
      const d = data.get(job.index);
      if (d === undefined) throw new Error(`node ${job.index} is not on this host`);
      if (!d) out.push({ index: job.index, metrics: null });
      else {
        const cfg = {
          epochs: job.epochs,
          learningRate: job.learningRate,
          batchSize: job.batchSize,
          mu: job.mu,
          random: seededRandom(job.seed),
        };
        const select = input.select;
        const { weights } = input.personalize
          ? await personalizeWeights(runtime, input.kind, input.arch, input.weights, d, cfg)
          : select
            ? await trainSelected(runtime, input.arch, input.weights, d, cfg, select, (w) =>
                validationValue(runtime.evaluate(input.arch, w, d, 'validation'), select),
              )
            : await runtime.train(input.arch, input.weights, d, cfg);
        out.push({
          index: job.index,
          metrics: metricValues(runtime.evaluate(input.arch, weights, d, 'test')),
        });
      }
      tick?.();
    }
    return out;
  }

  baselines(input: KindInput): Promise<NodeBaselines[]> {
    const runtime = HONEST[input.kind]!;
    return settled(() =>
      [...this.#data(input.kind)].map(([index, d]) => ({
        index,
        baselines: d
          ? Object.fromEntries(
              Object.entries(runtime.baselines(d)).map(([k, m]) => [k, metricValues(m)]),
            )
          : {},
      })),
    );
  }

  trainingData(input: KindInput): Promise<NodeTrainingData[]> {
    return settled(() =>
      [...this.#data(input.kind)].flatMap(([index, data]) => (data ? [{ index, data }] : [])),
    );
  }

  async close(): Promise<void> {
    for (const x of this.#nodes.splice(0)) {
      await x.node.close().catch(() => undefined);
      await x.store.close().catch(() => undefined);
    }
    this.#prepared.clear();
  }

  #data(kind: ModelKind): Map<number, TrainableData | null> {
    const data = this.#prepared.get(kind);
    if (!data) throw new Error(`${kind} is not prepared on this host`);
    return data;
  }
}

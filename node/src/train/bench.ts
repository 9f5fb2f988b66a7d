import * as tf from '@tensorflow/tfjs-core';
import { cryptoReady, systemRandom, type RandomSource } from '@coopfl/protocol';
import { initTf, type TfBackendName } from '../tf/backend';
import { DpSgd } from './dpsgd';
import { FusedAdam } from './fused-adam';
import { disposeModel, type Batch, type PlainModel } from './model';
import { plainStep } from './plain-step';
import { referenceModel, syntheticBatch, type ReferenceModelName } from './reference-models';

/** Options of {@link benchDpSgd}. */
export interface BenchDpSgdOptions {
  /** Models to measure; default R1, R2, R3. */
  readonly models?: readonly ReferenceModelName[];
  /** Default 256, as in the target. */
  readonly batchSize?: number;
  /** Timed steps per path and model (median reported); default 20. */
  readonly steps?: number;
  /**
   * Untimed steps per path first (JIT, wasm heap growth, Adam slots). Default: at least 5, then
   * until the faster path has run {@link WARMUP_SECONDS} or {@link WARMUP_MAX_STEPS} steps. V8
   * optimises the step's JS (kernel dispatch, host loops) only after it has run a while: after 5
   * warm-up steps R1's step was ~30% slower than after 200. The PyTorch reference warms up for a
   * whole epoch (782 steps on R1/R2, 391 on R3).
   */
  readonly warmup?: number;
  /** DP parameters; their values do not change the cost. Defaults C = 1, σ = 1. */
  readonly clipNorm?: number;
  readonly noiseMultiplier?: number;
  /** Noise source; default `systemRandom()`, so the measured cost is production's. */
  readonly rng?: RandomSource;
}

/** The default warm-up (see {@link BenchDpSgdOptions.warmup}). */
export const WARMUP_SECONDS = 1;
export const WARMUP_MAX_STEPS = 200;

/** One model's measurement. Field names match the benchmark JSON of `bench-results/`. */
export interface DpSgdBenchResult {
  model: ReferenceModelName;
  backend: TfBackendName;
  batch_size: number;
  /** Median wall time of one non-private Adam step, ms. */
  step_ms_plain: number;
  /** Median wall time of one DP-SGD step (clip, noise, Adam), ms. */
  step_ms_dp: number;
  /** step_ms_dp / step_ms_plain; the target is ≤ 3. */
  ratio: number;
  /** Non-private training throughput, samples/s (batch_size / step_ms_plain). */
  samples_per_s_plain: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Waits for the step's effects so that asynchronous backends are timed fairly too. */
function settle(model: PlainModel): void {
  model.dense[model.dense.length - 1]!.b.dataSync();
}

function timeOnce(step: () => void, model: PlainModel): number {
  const t0 = performance.now();
  step();
  settle(model);
  return performance.now() - t0;
}

async function benchModel(
  name: ReferenceModelName,
  backend: TfBackendName,
  o: Required<Omit<BenchDpSgdOptions, 'warmup'>> & { warmup: number | undefined },
): Promise<DpSgdBenchResult> {
  const plainModel = referenceModel(name);
  const dpModel = referenceModel(name);
  const batch: Batch = syntheticBatch(name, o.batchSize);
  const plainOpt = new FusedAdam({ learningRate: 1e-3 });
  const dpOpt = new FusedAdam({ learningRate: 1e-3 });
  const dp = new DpSgd(dpModel, {
    clipNorm: o.clipNorm,
    noiseMultiplier: o.noiseMultiplier,
    samplingRate: 0.01,
    rng: o.rng,
    optimizer: dpOpt,
  });
  const plain = (): void => plainStep(plainModel, plainOpt, batch);
  const priv = (): void => dp.step(batch);
  try {
    let spent = 0;
    for (
      let i = 0;
      o.warmup === undefined
        ? i < 5 || (i < WARMUP_MAX_STEPS && spent < WARMUP_SECONDS * 1000)
        : i < o.warmup;
      i++
    ) {
      spent += Math.min(timeOnce(plain, plainModel), timeOnce(priv, dpModel));
    }
    const plainMs: number[] = [];
    const dpMs: number[] = [];
    // Interleaved so that load from other processes on the shared machine hits both paths alike.
    for (let i = 0; i < o.steps; i++) {
      plainMs.push(timeOnce(plain, plainModel));
      dpMs.push(timeOnce(priv, dpModel));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stepPlain = median(plainMs);
    const stepDp = median(dpMs);
    return {
      model: name,
      backend,
      batch_size: o.batchSize,
      step_ms_plain: stepPlain,
      step_ms_dp: stepDp,
      ratio: stepDp / stepPlain,
      samples_per_s_plain: (o.batchSize / stepPlain) * 1000,
    };
  } finally {
    disposeModel(plainModel);
    disposeModel(dpModel);
    plainOpt.dispose();
    dpOpt.dispose();
    tf.dispose([batch.x, batch.y]);
  }
}

/**
 * Measures a DP-SGD step against a non-private step on the reference models (same architecture,
 * initial weights, batch and Adam 1e-3 — {@link FusedAdam}, the same update as `tf.train.adam`
 * in one host pass per variable), on the backend {@link initTf} chooses. The issue's
 * target is a DP step at most 3× the plain one; the plain throughput is compared with PyTorch's
 * (R1 ≈ 302k, R2 ≈ 368k, R3 ≈ 31k samples/s on this machine kind).
 *
 * @example
 * const results = await benchDpSgd({ models: ['R1'] });
 */
export async function benchDpSgd(opts: BenchDpSgdOptions = {}): Promise<DpSgdBenchResult[]> {
  const { backend } = await initTf();
  await cryptoReady();
  const o: Required<Omit<BenchDpSgdOptions, 'warmup'>> & { warmup: number | undefined } = {
    models: opts.models ?? ['R1', 'R2', 'R3'],
    batchSize: opts.batchSize ?? 256,
    steps: opts.steps ?? 20,
    warmup: opts.warmup,
    clipNorm: opts.clipNorm ?? 1,
    noiseMultiplier: opts.noiseMultiplier ?? 1,
    rng: opts.rng ?? systemRandom(),
  };
  const results: DpSgdBenchResult[] = [];
  for (const name of o.models) results.push(await benchModel(name, backend, o));
  return results;
}

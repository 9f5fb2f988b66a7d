import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { CoopNodeError } from '../errors';
import './gradients';
import { installWasmTrainingKernels } from './kernels/register-wasm';

/** The TF.js backends a node can train on, fastest first. */
export type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What {@link initTf} chose, and why a faster backend was not used (if one was not). */
export interface TfInitResult {
  backend: TfBackendName;
  reason?: string;
}

export interface TfInitOptions {
  /** Where to write the one line naming the chosen backend. Default: stderr (stdout stays free for a command's JSON). */
  log?: (line: string) => void;
}

/** Imported by name in a variable so that bundlers and tsc do not require it to be installed. */
const TFJS_NODE = '@tensorflow/tfjs-node';

let initPromise: Promise<TfInitResult> | undefined;

function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

async function tryTfjsNode(): Promise<string | undefined> {
  try {
    await import(/* @vite-ignore */ TFJS_NODE);
  } catch (err) {
    const missing = (err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
    return `${TFJS_NODE} ${missing ? 'not installed' : `failed to load (${message(err)})`}`;
  }
  return (await tf.setBackend('tensorflow'))
    ? undefined
    : 'tensorflow backend failed to initialise';
}

async function tryWasm(): Promise<string | undefined> {
  try {
    // Point the loader at the .wasm files inside the installed package: no network under Node.
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(dirname(entry) + sep);
    installWasmTrainingKernels();
    return (await tf.setBackend('wasm')) ? undefined : 'wasm backend failed to initialise';
  } catch (err) {
    return `wasm backend failed (${message(err)})`;
  }
}

async function init(opts: TfInitOptions): Promise<TfInitResult> {
  const log = opts.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const reasons: string[] = [];
  const attempts: [TfBackendName, () => Promise<string | undefined>][] = [
    ['tensorflow', tryTfjsNode],
    ['wasm', tryWasm],
    [
      'cpu',
      async () => ((await tf.setBackend('cpu')) ? undefined : 'cpu backend failed to initialise'),
    ],
  ];
  for (const [backend, attempt] of attempts) {
    const failure = await attempt();
    if (failure === undefined) {
      const reason = reasons.length > 0 ? reasons.join('; ') : undefined;
      const slow = backend === 'cpu' ? ' (pure JS, 4-10x slower than wasm: not for training)' : '';
      log(`[coopfl] TF.js backend: ${backend}${slow}${reason ? ` (${reason})` : ''}`);
      return reason === undefined ? { backend } : { backend, reason };
    }
    reasons.push(failure);
  }
  throw new CoopNodeError('Unsupported', `no TF.js backend could start: ${reasons.join('; ')}`);
}

/**
 * Chooses and initialises the fastest TF.js backend available: `@tensorflow/tfjs-node` if it is
 * installed and loads (native TensorFlow), else the wasm backend (XNNPACK, single-threaded under
 * Node, with our training kernels installed), else the pure-JS cpu backend. Logs the choice once;
 * later calls return the first result. `tfjs-node` is deliberately not a dependency: its install
 * downloads a native library, which fails on machines without internet access.
 *
 * @example
 * const { backend, reason } = await initTf();
 * if (backend === 'cpu') console.warn(`training will be slow: ${reason}`);
 */
export function initTf(opts: TfInitOptions = {}): Promise<TfInitResult> {
  initPromise ??= init(opts).catch((err: unknown) => {
    initPromise = undefined;
    throw err;
  });
  return initPromise;
}

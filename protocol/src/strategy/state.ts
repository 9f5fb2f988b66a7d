import { ProtocolError } from '../errors';
import type { OptimizerKind, OptimizerState } from './types';

/**
 * Byte encoding of an {@link OptimizerState}, for the coordinator's `bytea` column. Little-endian:
 *
 *   offset 0  4 bytes  magic "CFOS" (CoopFL optimizer state)
 *          4  1 byte   format version (1)
 *          5  1 byte   kind: 1 fedavg, 2 fedadagrad, 3 fedadam, 4 fedyogi
 *          6  2 bytes  reserved, 0
 *          8  u32      round (server steps taken)
 *         12  u32      dim (length of the flat parameter vector)
 *         16  dim × f64  m   (adaptive kinds only)
 *             dim × f64  v   (adaptive kinds only)
 *
 * The kind travels with the moments so that a state written by one optimizer is refused by another
 * (silently reading FedAdam's moments as FedYogi's would change the algorithm without a trace).
 */

const MAGIC = [0x43, 0x46, 0x4f, 0x53]; // "CFOS"
const VERSION = 1;
const HEADER = 16;
const MAX_DIM = 2 ** 28;
const KIND_CODE: Record<OptimizerKind, number> = {
  fedavg: 1,
  fedadagrad: 2,
  fedadam: 3,
  fedyogi: 4,
};
const CODE_KIND = new Map<number, OptimizerKind>(
  (Object.entries(KIND_CODE) as [OptimizerKind, number][]).map(([k, c]) => [c, k]),
);

function checkU32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new ProtocolError('InvalidArgument', `${name} must be an integer in [0, 2^32 − 1]`);
  }
}

/**
 * Serialises an optimizer state (see the layout above). Throws InvalidArgument for a state that is
 * not well formed (unknown kind, moments of the wrong type or length).
 *
 * @example
 * const { state } = fedAdam().step(global, aggregate, undefined);
 * await db.update(models).set({ optimizerState: encodeOptimizerState(state) });
 */
export function encodeOptimizerState(state: OptimizerState): Uint8Array {
  const code = KIND_CODE[state.kind] as number | undefined;
  if (code === undefined) {
    throw new ProtocolError('InvalidArgument', `unknown optimizer kind '${String(state.kind)}'`);
  }
  checkU32('state.round', state.round);
  checkU32('state.dim', state.dim);
  const d = state.dim;
  const arrays: Float64Array[] = [];
  if (state.kind !== 'fedavg') {
    for (const [name, a] of [
      ['m', state.m],
      ['v', state.v],
    ] as const) {
      if (!(a instanceof Float64Array) || a.length !== d) {
        throw new ProtocolError('InvalidArgument', `state.${name} must be a Float64Array of ${d}`);
      }
      arrays.push(a);
    }
  }
  const out = new Uint8Array(HEADER + arrays.length * 8 * d);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = code;
  view.setUint32(8, state.round, true);
  view.setUint32(12, d, true);
  let off = HEADER;
  for (const a of arrays) {
    for (let i = 0; i < d; i++, off += 8) view.setFloat64(off, a[i]!, true);
  }
  return out;
}

/**
 * Parses bytes from {@link encodeOptimizerState}. Throws MalformedMessage for anything that is not
 * a well-formed version-1 state (bad magic, unknown version or kind, truncated or trailing bytes,
 * non-finite or negative moments), and InvalidArgument when `expectedKind` is given and the state
 * belongs to another optimizer.
 *
 * @example
 * const optimizer = createOptimizer(round.strategy);
 * const state = row.optimizerState
 *   ? decodeOptimizerState(row.optimizerState, optimizer.kind)
 *   : undefined;
 */
export function decodeOptimizerState(
  bytes: Uint8Array,
  expectedKind?: OptimizerKind,
): OptimizerState {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError('InvalidArgument', 'optimizer state must be a Uint8Array');
  }
  if (bytes.length < HEADER || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ProtocolError('MalformedMessage', 'not an optimizer state (bad magic or too short)');
  }
  if (bytes[4] !== VERSION) {
    throw new ProtocolError(
      'MalformedMessage',
      `optimizer state version ${bytes[4]} is not supported (expected ${VERSION})`,
    );
  }
  const kind = CODE_KIND.get(bytes[5]!);
  if (kind === undefined) {
    throw new ProtocolError('MalformedMessage', `optimizer state has unknown kind ${bytes[5]}`);
  }
  if (expectedKind !== undefined && kind !== expectedKind) {
    throw new ProtocolError(
      'InvalidArgument',
      `optimizer state is for '${kind}', this optimizer is '${expectedKind}'`,
    );
  }
  if (bytes[6] !== 0 || bytes[7] !== 0) {
    throw new ProtocolError('MalformedMessage', 'optimizer state has non-zero reserved bytes');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const round = view.getUint32(8, true);
  const dim = view.getUint32(12, true);
  if (dim > MAX_DIM) {
    throw new ProtocolError('MalformedMessage', `optimizer state dimension ${dim} exceeds 2^28`);
  }
  const count = kind === 'fedavg' ? 0 : 2;
  const expected = HEADER + count * 8 * dim;
  if (bytes.length !== expected) {
    throw new ProtocolError(
      'MalformedMessage',
      `optimizer state has ${bytes.length} bytes, expected ${expected} ('${kind}', dimension ${dim})`,
    );
  }
  if (kind === 'fedavg') return { kind, round, dim };
  const m = new Float64Array(dim);
  const v = new Float64Array(dim);
  let off = HEADER;
  for (let i = 0; i < dim; i++, off += 8) {
    m[i] = view.getFloat64(off, true);
    if (!Number.isFinite(m[i]!)) {
      throw new ProtocolError('MalformedMessage', `optimizer state m[${i}] is not finite`);
    }
  }
  for (let i = 0; i < dim; i++, off += 8) {
    v[i] = view.getFloat64(off, true);
    if (!Number.isFinite(v[i]!) || v[i]! < 0) {
      throw new ProtocolError('MalformedMessage', `optimizer state v[${i}] is not finite and ≥ 0`);
    }
  }
  return { kind, round, dim, m, v };
}

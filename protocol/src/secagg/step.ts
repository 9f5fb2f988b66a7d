import { ProtocolError } from '../errors';

/**
 * The result of one state-machine transition. A rejected message leaves the state as it was
 * (`ok: false` with the same state); a failed round moves to a terminal state carrying the error.
 */
export type Step<S, O> =
  { ok: true; state: S; out: O[] } | { ok: false; state: S; error: ProtocolError };

/** Runs a transition body, turning a thrown ProtocolError into a rejected step on `state`. */
export function guard<S, O>(state: S, body: () => Step<S, O>): Step<S, O> {
  try {
    return body();
  } catch (err) {
    if (err instanceof ProtocolError) return { ok: false, state, error: err };
    throw err;
  }
}

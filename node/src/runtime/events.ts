/**
 * What the node's client loop reports, for the CLI's progress line, logs and tests. Events name
 * rounds, models and reasons, never data values, weights or keys.
 */
export type NodeEvent =
  | { type: 'poll'; tasks: number; status: string }
  | { type: 'retry'; attempt: number; delayMs: number; reason: string }
  | { type: 'reconnected'; afterAttempts: number }
  | { type: 'consent-synced' }
  /** The member changed its consent in the dashboard; the node made it its own setting. */
  | { type: 'consent-adopted'; editedAt: string }
  | { type: 'consent-sync-failed'; reason: string }
  | {
      type: 'refused';
      roundId: string;
      modelId: string;
      reason: RefusalReason;
      detail: string;
    }
  | { type: 'round-joined'; roundId: string; modelId: string; kind: 'train' | 'eval' | 'benchmark' }
  | { type: 'trained'; roundId: string; modelId: string; examples: number; clipped: boolean }
  | { type: 'evaluated'; roundId: string; modelId: string; metrics: Record<string, number> }
  /** The KPIs (names only) this shop put into a benchmark run; none outside the peer group. */
  | { type: 'benchmark-contributed'; roundId: string; period: string; kpis: string[] }
  | {
      type: 'round-finished';
      roundId: string;
      modelId: string;
      kind: 'train' | 'eval' | 'benchmark';
      status: string;
      resultVersion: number | null;
    }
  | { type: 'round-error'; roundId: string; modelId: string; reason: string }
  | { type: 'privacy-spent'; modelId: string; roundId: string; epsilon: number }
  | { type: 'model-stored'; modelId: string; version: number }
  /**
   * The node fine-tuned a global version on the shop's data: `epochs` kept (0: the global model
   * scored best on the shop's validation split and is served as it is), and that split's main
   * metric for the global and the kept model.
   */
  | {
      type: 'personalized';
      modelId: string;
      version: number;
      epochs: number;
      metric: string;
      global: number | null;
      kept: number | null;
    }
  | { type: 'personalize-failed'; modelId: string; version: number; reason: string };

/**
 * Why a node declines a task (DESIGN §4 step 2): it never takes part against its own consent or
 * privacy budget, nor in a round it can no longer join correctly.
 */
export type RefusalReason =
  'consent' | 'budget' | 'unsupported' | 'late' | 'no-data' | 'metrics' | 'mismatch';

/** Called for each event; must not throw (errors in it are ignored). */
export type NodeEventSink = (event: NodeEvent) => void;

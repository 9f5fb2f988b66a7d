import pino from 'pino';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { performance } from 'node:perf_hooks';

/**
 * Logs (pino, JSON) carry round and member ids, never vectors, keys or tokens. Metrics are served
 * in Prometheus text format at /metrics.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'coopfl-coordinator' },
    redact: ['req.headers.authorization'],
  });
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'coopfl_' });
  return {
    registry,
    rounds: new Counter({
      name: 'coopfl_rounds_total',
      help: 'Rounds finished, by outcome',
      labelNames: ['outcome', 'kind'] as const,
      registers: [registry],
    }),
    participants: new Gauge({
      name: 'coopfl_round_participants',
      help: 'Members selected for the latest round, by model',
      labelNames: ['model'] as const,
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: 'coopfl_round_stage_duration_seconds',
      help: 'Wall time of each secure-aggregation stage',
      labelNames: ['stage'] as const,
      buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    bytesIn: new Counter({
      name: 'coopfl_bytes_received_total',
      help: 'Bytes of round messages received from members',
      registers: [registry],
    }),
    /** Time the event loop spent running JavaScript (not waiting): the main thread's busy time. */
    eventLoopActive: new Gauge({
      name: 'coopfl_event_loop_active_seconds',
      help: 'Seconds the event loop has been busy since start (event-loop utilization)',
      registers: [registry],
      collect() {
        this.set(performance.eventLoopUtilization().active / 1000);
      },
    }),
    requestSeconds: new Histogram({
      name: 'coopfl_http_request_duration_seconds',
      help: 'Time to answer a request, by route',
      labelNames: ['route', 'status'] as const,
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 30],
      registers: [registry],
    }),
    bytesOut: new Counter({
      name: 'coopfl_bytes_sent_total',
      help: 'Bytes of round messages and weights sent to members',
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

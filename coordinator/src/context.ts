import type { KeyPair, RandomSource } from '@coopfl/protocol';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from './config';
import type { Database } from './db';
import type { Metrics } from './observability';

/** Everything a coordinator service needs, passed explicitly (no module-level singletons). */
export interface CoordinatorContext {
  db: Database;
  config: CoordinatorConfig;
  /** The coordinator's Ed25519 key pair (signs tasks and weights). */
  key: KeyPair;
  log: Logger;
  metrics: Metrics;
  random: RandomSource;
  now: () => Date;
}

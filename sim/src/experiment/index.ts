/**
 * Experiments of `coopfl-sim run`: whole cooperatives on one machine (real coordinator, real
 * nodes over loopback HTTP), federated vs local-only vs centralized, `results.json` and
 * `report.html`. See `README.md` beside this file for the results schema.
 */
export { ExperimentConfigSchema, parseExperimentConfig, clipNormOf } from './config';
export type { ExperimentConfig, ExperimentConfigInput } from './config';
export { runExperiment, architectureOf, modelConfigOf, MAIN_METRIC } from './run';
export type { ExperimentProgress, RunExperimentOptions } from './run';
export { ResultsSchema, ARMS, stripTiming } from './results';
export type { ExperimentResults, ModelResult, MetricValues, Arm } from './results';
export { SweepResultsSchema, parseSweep, runSweep, sweepConfig, writeOutputs } from './sweep';
export type { Sweep, SweepResults } from './sweep';
export { renderReport } from './report';
export { registerRunCommand } from './command';

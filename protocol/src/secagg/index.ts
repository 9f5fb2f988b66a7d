export { makeSecAggConfig, SecAggConfigInputSchema, shareSet } from './config';
export type { SecAggConfig, SecAggConfigInput } from './config';
export { createClient, clientNext } from './client';
export type { ClientState, ClientEvent, ClientInput, ClientOptions } from './client';
export { createServer, serverNext, expectedCount, maskedTotals, cloneServerState } from './server';
export type { ServerState, ServerEvent, ServerStage, AggregateResult, Outgoing } from './server';
export type { Step } from './step';
export { neighbourGraph, defaultNeighbours, defaultThreshold } from './graph';
export {
  quantizationScale,
  quantizationBound,
  encodeWeighted,
  decodeWeightedSum,
} from './quantize';
export type { QuantizationParams } from './quantize';
export { shamirShare, shamirReconstruct, SHAMIR_PRIME } from './shamir';
export type { Share } from './shamir';
export {
  ClientMessageSchema,
  ServerMessageSchema,
  decodeClientBody,
  decodeServerMessage,
  encodeServerMessage,
  sealClientMessage,
  openClientMessage,
  STAGE_CODE_OFFSET,
  DECLINE_STAGE_CODE,
} from './messages';
export type { ClientMessage, ServerMessage } from './messages';
export { runRound, runClient, InMemoryChannel } from './channel';
export { generateCohort } from './cohort';
export type { RoundChannel, RoundRunOptions, RoundReport, DropPlan } from './channel';

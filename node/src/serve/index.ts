export { DEFAULT_MAX_BODY_BYTES, createServeApp } from './app';
export type { ModelProvider, ServeAppOptions, ServeLogger, ServedModel } from './app';
export { NODE_ERROR_HTTP, SERVE_ERROR_STATUS } from './errors';
export type { ServeErrorBody, ServeErrorCode } from './errors';
export { startServe } from './server';
export type { RunningServe, StartServeOptions } from './server';

// Worker threads start without the TypeScript loader the main thread runs under (tsx, or
// vitest's): register tsx here, then load the worker's TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');

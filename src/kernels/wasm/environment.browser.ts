// The browser build's environment.ts (tsup.config.ts): a page has no process environment, so the
// kernel settings keep their defaults and the code that reads ROBUST_AGG_* is left out.
export { kernelConfig } from './settings.js';

/** Reads nothing in a browser build. @internal */
export function readEnvironment(): void {}

// The aggregation worker's script (src/server/worker-source.ts) is the bundle of
// src/server/worker-main.ts with the registry and every rule as they are now: a worker running
// yesterday's rules would break "identical to the synchronous call". Regenerate it with
// `node scripts/build-server-worker.mjs` after changing any rule.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

describe('generated aggregation worker', () => {
  it('src/server/worker-source.ts is up to date', () => {
    expect(() => execFileSync(process.execPath, ['scripts/build-server-worker.mjs', '--check'], { cwd: root, stdio: 'pipe' })).not.toThrow();
  });
});

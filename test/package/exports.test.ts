// The built package (npm test builds it first, see `pretest`) loads by its name from ESM and CJS,
// through the `exports` map, as a user's code would.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const run = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
const built = existsSync(`${root}dist/index.js`) && existsSync(`${root}dist/index.cjs`);

describe.runIf(built)('package entry points', () => {
  const body = `const m = [[0],[1],[2],[10],[11]].map((v) => Float32Array.from(v));
    console.log(JSON.stringify([typeof krum, typeof geometricMedian, typeof coordinateMedian,
      Array.from(krum(m, { f: 1 })), Array.from(coordinateMedian(m))]));`;
  const expected = JSON.stringify(['function', 'function', 'function', [1], [2]]);

  it('imports from ESM', () => {
    const code = `import { krum, geometricMedian, coordinateMedian } from 'robust-agg'; ${body}`;
    expect(run(['--input-type=module', '-e', code])).toBe(expected);
  });

  it('requires from CommonJS', () => {
    const code = `const { krum, geometricMedian, coordinateMedian } = require('robust-agg'); ${body}`;
    expect(run(['--input-type=commonjs', '-e', code])).toBe(expected);
  });

  it('exposes robust-agg/defenses from both module systems', () => {
    expect(run(['--input-type=module', '-e', "import * as t from 'robust-agg/defenses'; console.log(typeof t.rnp, typeof t.clp)"])).toBe('function function');
    expect(run(['--input-type=commonjs', '-e', "console.log(typeof require('robust-agg/defenses').finePruning)"])).toBe('function');
  });

  it('robust-agg/tfjs does not load @tensorflow/tfjs-layers (only the defenses entry needs it)', () => {
    const code =
      "const m = require('node:module'); const seen = []; const load = m._load;" +
      ' m._load = function (id, ...rest) { seen.push(id); return load.call(this, id, ...rest); };' +
      " require('robust-agg/tfjs'); const core = seen.some((id) => id.includes('tfjs-core'));" +
      " const layers = seen.some((id) => id.includes('tfjs-layers'));" +
      " require('robust-agg/defenses'); console.log(core, layers, seen.some((id) => id.includes('tfjs-layers')));";
    expect(run(['--input-type=commonjs', '-e', code])).toBe('true false true');
  });

  it('exposes robust-agg/tfjs from both module systems', () => {
    expect(run(['--input-type=module', '-e', "import * as t from 'robust-agg/tfjs'; console.log(typeof t.updatesFromTensor)"])).toBe('function');
    expect(run(['--input-type=commonjs', '-e', "console.log(typeof require('robust-agg/tfjs').updatesFromTensor)"])).toBe('function');
  });
});

it('dist is built before the tests (pretest runs the build)', () => {
  expect(built).toBe(true);
});

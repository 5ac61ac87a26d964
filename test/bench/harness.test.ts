// The benchmark harness (bench/, scripts/build-if-stale.mjs): flag parsing and the plan of each
// mode, the sampling rule (at least five calls, fewer only above the slow-call threshold, marked;
// no dispersion from one call), the duration estimate and the ETA, the peer pruning, the staleness
// check of dist/, that the table, the JSON, the SVG and the page agree, and that Ctrl-C stops a
// run (a child process on a tiny grid) and leaves its partial output. No timing is asserted here
// (DESIGN §6): the clock of the sampling tests is a fake one, and the Ctrl-C test checks what
// happens, not how fast.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The harness is plain ESM JavaScript without type declarations: load it untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Rec = any;
const load = (rel: string): Promise<Module> => import(new URL(`../../bench/lib/${rel}`, import.meta.url).href);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('bench flags and plans', () => {
  it('defaults to the few-minute run: peers, no memory, a progress bar', async () => {
    const { parseArgs, planFor } = await load('cli.mjs');
    const o = parseArgs([]);
    expect(o).toMatchObject({ quick: false, full: false, only: null, n: null, d: null, backends: null, peers: true, memory: null });
    const p = planFor(o);
    expect(p.mode).toBe('default');
    expect(p.memory).toBe(false);
    expect(p.peers).toBe('fastest');
    expect(p.backends).toEqual(['fast']);
    expect(p.minSamples).toBe(5);
  });

  it('the default run sweeps small sizes first and ends at the headline n = 100, d = 1e6 without attacks', async () => {
    const { parseArgs, planFor, groupsOf } = await load('cli.mjs');
    const p = planFor(parseArgs([]));
    expect(p.headline).toEqual({ n: 100, d: 1e6 });
    const last = p.cells[p.cells.length - 1];
    expect(last).toMatchObject({ n: 100, d: 1e6, skipGroups: ['attack'] });
    // sorted small to large, the sweep has more than one n and more than one d
    for (let i = 1; i < p.cells.length; i++) expect(p.cells[i].d >= p.cells[i - 1].d).toBe(true);
    expect(new Set(p.cells.map((c: Rec) => c.n)).size).toBeGreaterThan(1);
    expect(new Set(p.cells.map((c: Rec) => c.d)).size).toBeGreaterThan(1);
    const groups = groupsOf(p.cells);
    expect(groups.map((g: Rec) => g.d)).toEqual([1e4, 1e5, 1e6]);
    expect(groups[0].nMax).toBe(100);
    expect(groups[2].cells.map((c: Rec) => c.n)).toEqual([100]);
  });

  it('--full is the whole grid with plain and fast kernels, every peer and memory; --quick is small', async () => {
    const { parseArgs, planFor, FULL_N, FULL_D } = await load('cli.mjs');
    const full = planFor(parseArgs(['--full']));
    expect(full.cells.length).toBe(FULL_N.length * FULL_D.length);
    expect(full.backends).toBeNull(); // the library's default set: ts and fast
    expect(full.memory).toBe(true);
    expect(full.peers).toBe('all');
    const quick = planFor(parseArgs(['--quick']));
    expect(quick.cells.map((c: Rec) => [c.n, c.d])).toEqual([[10, 1e4], [50, 1e4], [10, 1e5], [50, 1e5]]);
    expect(quick.headline).toBeNull();
    expect(() => parseArgs(['--quick', '--full'])).toThrow(/exclude each other/);
  });

  it('--n / --d replace the cells by their cross product; the other flags reach the plan', async () => {
    const { parseArgs, planFor } = await load('cli.mjs');
    const p = planFor(parseArgs(['--n', '100', '--d', '1e6', '--samples', '7', '--max-cell-s', '3', '--max-call-s=9', '--memory', '--all-peers']));
    expect(p.custom).toBe(true);
    expect(p.cells).toEqual([{ n: 100, d: 1e6 }]);
    expect(p.minSamples).toBe(7);
    expect(p.maxCellMs).toBe(3000);
    expect(p.maxCallMs).toBe(9000);
    expect(p.memory).toBe(true);
    expect(p.peers).toBe('all');
    expect(planFor(parseArgs(['--no-peers'])).peers).toBe('none');
    const onlyN = planFor(parseArgs(['--n', '20']));
    expect(onlyN.cells.map((c: Rec) => c.d)).toEqual([1e4, 1e5, 1e6]);
  });

  it('parses lists, scientific notation and --flag=value', async () => {
    const { parseArgs } = await load('cli.mjs');
    const o = parseArgs(['--only', 'krum,flame', '--n', '50', '--d=1e6,1e5', '--quick', '--no-peers', '--backend', 'ts,tfjs-wasm', '--no-floor']);
    expect(o.only).toEqual(['krum', 'flame']);
    expect(o.n).toEqual([50]);
    expect(o.d).toEqual([1e6, 1e5]);
    expect(o.quick).toBe(true);
    expect(o.peers).toBe(false);
    expect(o.floor).toBe(false);
    expect(o.backends).toEqual(['ts', 'tfjs-wasm']);
    expect(parseArgs(['--peer-threads', '1', '--max-call-s', '60']).peerThreads).toBe(1);
    expect(parseArgs(['--docs-from', 'x.json']).docsFrom).toBe('x.json');
  });

  it('gives the peers an environment without OPENBLAS_CORETYPE / L2_SIZE, and pins threads on request', async () => {
    const { peerEnvironment } = await load('peers.mjs');
    const base = { PATH: '/bin', OPENBLAS_CORETYPE: 'Prescott', OPENBLAS_L2_SIZE: '1024' };
    const plain = peerEnvironment(base);
    expect(plain.env).toEqual({ PATH: '/bin' });
    expect(plain.removed).toEqual(['OPENBLAS_CORETYPE=Prescott', 'OPENBLAS_L2_SIZE=1024']);
    expect(plain.set).toEqual([]);
    const pinned = peerEnvironment({ PATH: '/bin' }, 1);
    expect(pinned.env.OPENBLAS_NUM_THREADS).toBe('1');
    expect(pinned.env.OMP_NUM_THREADS).toBe('1');
    expect(base.OPENBLAS_CORETYPE).toBe('Prescott'); // the harness's own environment is untouched
  });

  it('rejects unknown flags, unknown backends and bad numbers with a readable message', async () => {
    const { parseArgs } = await load('cli.mjs');
    expect(() => parseArgs(['--fast'])).toThrow(/unknown flag "--fast"/);
    expect(() => parseArgs(['--backend', 'cuda'])).toThrow(/unknown "cuda"/);
    expect(() => parseArgs(['--n', '1.5'])).toThrow(/not a positive integer/);
    expect(() => parseArgs(['--d'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--only', '--quick'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--max-cell-s', '0'])).toThrow(/positive/);
  });
});

describe('floor arithmetic', () => {
  const floor = { bandwidthGBs: 10, peakGmadds: 5 };

  it('a one-pass rule reads n·d·4 bytes at the bandwidth', async () => {
    const { floorMs } = await load('floor.mjs');
    // 100 × 1e6 × 4 B = 4e8 B at 1e10 B/s = 40 ms
    expect(floorMs({ n: 100, d: 1e6, cost: 'nd' }, floor)).toBeCloseTo(40, 9);
  });

  it('a Gram-based rule is bounded by n²d/2 multiply-adds at the peak when that is larger', async () => {
    const { floorMs } = await load('floor.mjs');
    // 100² × 1e6 / 2 = 5e9 multiply-adds at 5e9/s = 1000 ms (> 40 ms of reading)
    expect(floorMs({ n: 100, d: 1e6, cost: 'n2d' }, floor)).toBeCloseTo(1000, 9);
    // n = 2: 2e6 multiply-adds = 0.4 ms < 0.8 ms of reading
    expect(floorMs({ n: 2, d: 1e6, cost: 'n2d' }, floor)).toBeCloseTo(0.8, 9);
    expect(floorMs({ n: 50, d: 1e6, cost: 'n2' }, floor)).toBeNull();
  });

  it('% of floor is floor / measured', async () => {
    const { pctOfFloor } = await load('floor.mjs');
    expect(pctOfFloor(40, 400)).toBeCloseTo(10, 12);
    expect(pctOfFloor(null, 400)).toBeNull();
    expect(pctOfFloor(40, 0)).toBeNull();
  });
});

/** A fake clock and a function whose calls "take" the given durations on it. */
function fakeCalls(durations: number[]) {
  let t = 0;
  let i = 0;
  const now = () => t;
  const fn = () => {
    t += durations[Math.min(i, durations.length - 1)];
    i += 1;
  };
  return { now, fn, calls: () => i };
}

describe('sampling: at least five calls, fewer only above the slow-call threshold, and marked', () => {
  const plan = { warmup: true, minSamples: 5, budgetMs: 200, maxCellMs: 2500 };

  it('gives d = 1e6 the whole budget and smaller d a share; a call predicted slow gets no warm-up', async () => {
    const { budgetFor, planCell, slowCallMs } = await load('timing.mjs');
    expect(budgetFor(1e6, 1500)).toBe(1500);
    expect(budgetFor(1e5, 1500)).toBe(500);
    expect(budgetFor(1e4, 1500)).toBe(250);
    const p = { budgetMs: 200, minSamples: 5, maxCellMs: 2500 };
    expect(slowCallMs(p)).toBe(500);
    expect(planCell(null, p).warmup).toBe(true);
    expect(planCell(400, p).warmup).toBe(true);
    expect(planCell(600, p).warmup).toBe(false);
  });

  it('a fast call is timed at least five times and until the budget is spent', async () => {
    const { timeCell } = await load('timing.mjs');
    const c = fakeCalls([1]);
    const r = await timeCell(c.fn, plan, { now: c.now });
    expect(r.samples).toBe(200); // 200 calls of 1 ms fill the 200 ms budget
    expect(r.fewSamples).toBe(false);
    const slowish = fakeCalls([450]);
    const r2 = await timeCell(slowish.fn, plan, { now: slowish.now });
    expect(r2.samples).toBe(5); // five calls of 450 ms: 2.25 s, past the budget but within the cap
    expect(r2.fewSamples).toBe(false);
    expect(r2.madMs).toBe(0); // measured over five calls (all equal on the fake clock)
  });

  it('a call just above the threshold takes as many calls as fit the cap, and the cell is marked', async () => {
    const { timeCell } = await load('timing.mjs');
    const c = fakeCalls([600]);
    const r = await timeCell(c.fn, { ...plan, warmup: false }, { now: c.now });
    expect(r.samples).toBe(4); // 4 × 600 = 2.4 s; a fifth would pass 2.5 s
    expect(r.fewSamples).toBe(true);
    expect(r.samplesTarget).toBe(5);
    expect(r.slowCallMs).toBe(500);
    expect(c.calls()).toBe(4); // no warm-up
  });

  it('one very slow call is one sample with no dispersion', async () => {
    const { timeCell } = await load('timing.mjs');
    const c = fakeCalls([9000]);
    const r = await timeCell(c.fn, { ...plan, warmup: false }, { now: c.now });
    expect(r.samples).toBe(1);
    expect(r.madMs).toBeNull();
    expect(r.fewSamples).toBe(true);
    expect(r.medianMs).toBe(9000);
  });

  it('a slow first call (cold) does not cut a cell of fast calls short', async () => {
    const { timeCell } = await load('timing.mjs');
    // the median, not the first call, decides whether the calls are slow (a first call that alone
    // would not leave room for a second one is all the cell can know, and is kept as one sample)
    const c = fakeCalls([900, 100, 100, 100, 100, 100]);
    const r = await timeCell(c.fn, { ...plan, warmup: false }, { now: c.now });
    expect(r.samples).toBeGreaterThanOrEqual(5);
    expect(r.fewSamples).toBe(false);
  });

  it('counts a memory child\'s measured call as the first sample, and awaits an async call', async () => {
    const { timeCell } = await load('timing.mjs');
    const c = fakeCalls([700]);
    const r = await timeCell(c.fn, { ...plan, warmup: false }, { first: [700], now: c.now });
    expect(r.samples).toBe(3);
    expect(c.calls()).toBe(2);
    let calls = 0;
    let t = 0;
    const slowAsync = async () => {
      await new Promise((res) => setTimeout(res, 1));
      t += 3000;
      calls += 1; // after the await: counted by the time timeCell returns only if it awaited the promise
    };
    const r2 = await timeCell(slowAsync, { ...plan, warmup: false }, { now: () => t });
    expect(calls).toBe(1);
    expect(r2.samples).toBe(1);
  });

  it('the table never prints a dispersion that was not measured, and marks the cells with fewer calls', async () => {
    const { madText, samplesText, fewSamplesLegend, tableCells } = await load('report.mjs');
    const one = { rule: 'krumLp', impl: 'fast', n: 100, d: 1e6, medianMs: 9000, madMs: null, samples: 1, samplesTarget: 5, fewSamples: true, slowCallMs: 500 };
    const two = { ...one, rule: 'nnm', medianMs: 900, madMs: 20, samples: 2 };
    const full = { ...one, rule: 'mean', medianMs: 100, madMs: 2, samples: 12, fewSamples: false };
    const legacy = { rule: 'mean', impl: 'ts', n: 100, d: 1e6, medianMs: 780, madMs: 0, samples: 1 }; // a schema-1 record
    expect(madText(one)).toBe('—');
    expect(madText(legacy)).toBe('—');
    expect(madText(two)).toBe('20.0 ms');
    expect(samplesText(one)).toBe('1 of 5');
    expect(samplesText(full)).toBe('12');
    expect(samplesText(legacy)).toBe('1');
    expect(fewSamplesLegend([full])).toBeNull();
    expect(fewSamplesLegend([one, two, full])).toMatch(/2 cell\(s\) took fewer than 5 timed calls .* more than 500 ms/);
    const cells = tableCells([one]);
    const row = cells[1];
    expect(row[cells[0].indexOf('±MAD')]).toBe('—');
    expect(row[cells[0].indexOf('samples')]).toBe('1 of 5');
    expect(cells.flat().join(' ')).not.toMatch(/0\.00 µs/);
  });
});

describe('duration estimate and ETA', () => {
  it('formats durations for people', async () => {
    const { formatDuration, etaText } = await load('estimate.mjs');
    expect(formatDuration(400)).toBe('< 1 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(etaText(130_000)).toBe('ETA 2 min 10 s');
  });

  it('a cell costs warm-up + max(5 calls, budget), or the slow calls that fit the cap, or nothing when skipped', async () => {
    const { cellWallMs } = await load('estimate.mjs');
    const plan = { minSamples: 5, budgetMs: 200, maxCellMs: 2500, maxCallMs: 20_000 };
    expect(cellWallMs(100, plan, 0)).toBe(100 + 5 * 100);
    expect(cellWallMs(1, plan, 0)).toBe(20 + 200); // warm-up for 20 ms, then 200 calls
    expect(cellWallMs(600, plan, 0)).toBe(4 * 600);
    expect(cellWallMs(9000, plan, 0)).toBe(9000);
    expect(cellWallMs(30_000, plan, 0)).toBe(0);
  });

  it('predicts a call from the nearest reference cell, scaled by n·d or n²d, and knows refusals', async () => {
    const { referenceTimings, predictCall } = await load('estimate.mjs');
    const ref = referenceTimings(
      [{ impl: 'fast', rule: 'mean', n: 10, d: 1e4, medianMs: 1 }],
      [
        { impl: 'fast', rule: 'mean', n: 100, d: 1e6, medianMs: 500 }, // shadowed by the first list
        { impl: 'fast', rule: 'krum', n: 10, d: 1e4, medianMs: 2 },
        { impl: 'fast', rule: 'mda', n: 20, d: 1e4, error: 'C(n, f) too large', errorCode: 'UNSUPPORTED' },
        { impl: 'fast', rule: 'mda', n: 10, d: 1e4, medianMs: 3 },
      ],
    );
    expect(predictCall(ref, { impl: 'fast', rule: 'mean', cost: 'nd', n: 100, d: 1e6 }).ms).toBeCloseTo(1000, 9);
    const krum = predictCall(ref, { impl: 'fast', rule: 'krum', cost: 'n2d', n: 20, d: 1e4 });
    expect(krum.ms).toBeCloseTo((2 * (400 * 1e4 + 8 * 20 * 1e4)) / (100 * 1e4 + 8 * 10 * 1e4), 9);
    expect(predictCall(ref, { impl: 'fast', rule: 'mda', cost: 'n2d', n: 50, d: 1e4 })).toEqual({ ms: 0, refused: true });
    expect(predictCall(ref, { impl: 'ts', rule: 'mean', cost: 'nd', n: 10, d: 1e4 })).toBeNull();
  });

  it('the remaining time counts the tasks not done, less what the running one has used, and refines', async () => {
    const { Progress, calibration } = await load('estimate.mjs');
    const p = new Progress([
      { id: 'a', estMs: 1000 },
      { id: 'b', estMs: 2000 },
      { id: 'c', estMs: 3000 },
    ]);
    expect(p.totalEstimateMs()).toBe(6000);
    expect(p.remainingMs(0)).toBe(6000);
    p.start('a', 0);
    expect(p.remainingMs(400)).toBe(5600);
    expect(p.remainingMs(5000)).toBe(5000); // the running task never counts below zero
    p.finish('a', 1500);
    p.setEstimate('b', 500); // a better prediction arrives
    p.setEstimate('a', 99); // ignored: done
    expect(p.remainingMs(5000)).toBe(3500);
    expect(p.counts()).toEqual({ done: 1, total: 3 });
    const cal = calibration([
      { impl: 'fast', measuredMs: 200, predictedMs: 100 },
      { impl: 'fast', measuredMs: 800, predictedMs: 100 },
      { impl: 'numpy', measuredMs: 1, predictedMs: 1000 },
    ]);
    expect(cal.fast).toBeCloseTo(4, 9); // geometric mean of 2 and 8
    expect(cal.numpy).toBe(0.2); // clamped
  });
});

describe('peers', () => {
  it('keeps only the fastest peer per rule after a cell where both ran', async () => {
    const { fastestPeers } = await load('peers.mjs');
    const libsByRule = { krum: ['numpy', 'torch'], coordinateMedian: ['numpy', 'torch'], centeredClipping: ['torch'], geometricMedian: ['numpy', 'torch'] };
    const rec = (impl: string, rule: string, n: number, d: number, medianMs: number, extra = {}) => ({ impl, rule, n, d, medianMs, ...extra });
    const records = [
      rec('numpy', 'krum', 10, 1e4, 1),
      rec('torch', 'krum', 10, 1e4, 1.5), // within 2× at the small cell …
      rec('numpy', 'krum', 100, 1e4, 2),
      rec('torch', 'krum', 100, 1e4, 30), // … but not at the largest common one
      rec('numpy', 'coordinateMedian', 100, 1e4, 10),
      rec('torch', 'coordinateMedian', 100, 1e4, 12),
      rec('torch', 'centeredClipping', 100, 1e4, 50),
      rec('numpy', 'geometricMedian', 100, 1e4, 50),
      rec('torch', 'geometricMedian', 100, 1e4, 0, { error: 'skipped: predicted 90 s > 20 s per call' }),
    ];
    const { keep, dropped } = fastestPeers(records, libsByRule);
    expect(keep.krum).toEqual(['numpy']);
    expect(keep.coordinateMedian).toEqual(['numpy', 'torch']);
    expect(keep.centeredClipping).toEqual(['torch']);
    expect(keep.geometricMedian).toEqual(['numpy']);
    expect(dropped.map((x: Rec) => `${x.lib} ${x.rule}`).sort()).toEqual(['torch geometricMedian', 'torch krum']);
    expect(fastestPeers([], libsByRule).keep).toEqual(libsByRule);
  });
});

describe('rule registry', () => {
  it('skips rules the library does not export and selects stages with their rule', async () => {
    const { selectRules } = await load('rules.mjs');
    const lib = { mean: () => 0, flame: () => 0, krum: () => 0 };
    const all = selectRules(lib, null);
    expect(all.rules.map((e: { name: string }) => e.name)).toEqual(['mean', 'krum', 'flame', 'flame:noNoise']);
    const only = selectRules(lib, ['flame', 'bulyan', 'nosuch']);
    expect(only.rules.map((e: { name: string }) => e.name)).toEqual(['flame', 'flame:noNoise']);
    expect(only.missing).toEqual(['bulyan']);
    expect(only.unknown).toEqual(['nosuch']);
    expect(selectRules(lib, null, ['flame:noNoise']).rules.map((e: { name: string }) => e.name)).toEqual(['mean', 'krum', 'flame']);
  });

  it('every entry has a known group and cost, and unique names', async () => {
    const { RULES } = await load('rules.mjs');
    const names = RULES.map((e: { name: string }) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const e of RULES) {
      expect(['aggregator', 'pre-aggregator', 'stage', 'attack', 'clustering']).toContain(e.group);
      expect(['nd', 'n2d', 'n2']).toContain(e.cost);
    }
  });
});

describe('data', () => {
  it('draws the same matrix for the same seed; every tenth row is the sign flip; files round-trip', async () => {
    const { generateMatrix, writeMatrix, readMatrix, cellContext } = await load('data.mjs');
    const a = generateMatrix(20, 33, 5);
    const b = generateMatrix(20, 33, 5);
    expect(a.rows[7]).toEqual(b.rows[7]);
    expect(a.reference).toEqual(b.reference);
    expect(generateMatrix(20, 33, 6).rows[0]).not.toEqual(a.rows[0]);
    const ctx = cellContext(a.rows, a.reference, 20, 33);
    expect(ctx.f).toBe(2);
    expect(ctx.honest.length).toBe(18);
    const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
    try {
      const file = join(dir, 'm.f32');
      writeMatrix(file, a.rows, a.reference);
      const back = readMatrix(file, 10, 33, 20);
      expect(back.rows.length).toBe(10);
      expect(back.rows[9]).toEqual(a.rows[9]);
      expect(back.reference).toEqual(a.reference);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('memory verdict', () => {
  it('flags growth beyond the output above a quarter of the input and the O(n² + d) allowance', async () => {
    const { memoryVerdict, memoryAllowance } = await load('memory.mjs');
    const n = 200, d = 1e6; // input 8e8 bytes; allowance 2.56e6 + 6.4e7 + 32 MiB ≈ 1e8
    expect(memoryAllowance(n, d)).toBe(8 * 200 * 200 * 8 + 16 * 1e6 * 4 + 32 * 1024 * 1024);
    expect(memoryVerdict({ peakRssGrowthBytes: 4e6 + 9e7, outputBytes: 4e6, n, d }).flagged).toBe(false);
    const v = memoryVerdict({ peakRssGrowthBytes: 4e6 + 8e8, outputBytes: 4e6, n, d });
    expect(v.flagged).toBe(true);
    expect(v.ratioToInput).toBeCloseTo(1, 12);
    // small sizes: a fixed workspace above a quarter of a small input is not a copy of the data
    expect(memoryVerdict({ peakRssGrowthBytes: 13e6, outputBytes: 4e5, n: 100, d: 1e5 }).flagged).toBe(false);
  });
});

describe('table, JSON, SVG and page agree', () => {
  const records = [
    { rule: 'mean', group: 'aggregator', impl: 'ts', n: 50, d: 1e4, f: 5, medianMs: 2, madMs: 0.1, samples: 9, floorMs: 0.2, floorPct: 10 },
    { rule: 'mean', group: 'aggregator', impl: 'ts', n: 50, d: 1e5, f: 5, medianMs: 20, madMs: 1, samples: 4, floorMs: 2, floorPct: 10 },
    { rule: 'mean', group: 'aggregator', impl: 'numpy', n: 50, d: 1e4, f: 5, medianMs: 1, madMs: 0, samples: 20, floorMs: 0.2, floorPct: 20 },
    { rule: 'mean', group: 'aggregator', impl: 'numpy', n: 50, d: 1e5, f: 5, medianMs: 10, madMs: 0, samples: 5, floorMs: 2, floorPct: 20 },
    { rule: 'krum', group: 'aggregator', impl: 'ts', n: 50, d: 1e4, f: 5, medianMs: 8, madMs: 0.5, samples: 3, floorMs: 1, floorPct: 12.5 },
    { rule: 'krum', group: 'aggregator', impl: 'torch', n: 50, d: 1e4, f: 5, medianMs: 16, madMs: 0.5, samples: 3, floorMs: 1, floorPct: 6.25 },
    { rule: 'krum', group: 'aggregator', impl: 'ts', n: 10, d: 1e4, f: 1, medianMs: 1, madMs: 0.5, samples: 3, floorMs: 1, floorPct: 100 },
    { rule: 'mda', group: 'aggregator', impl: 'ts', n: 50, d: 1e4, f: 5, error: 'too many subsets', errorCode: 'UNSUPPORTED', floorMs: 1, floorPct: null },
    { rule: 'centeredClipping', group: 'aggregator', impl: 'torch', n: 50, d: 1e4, f: 5, medianMs: 3, madMs: 0, samples: 3, floorMs: 1, floorPct: 33 },
    { rule: 'hdbscan', group: 'clustering', cost: 'n2', impl: 'ts', n: 10, d: 1e4, f: 1, medianMs: 0.05, madMs: 0.001, samples: 50, floorMs: null, floorPct: null },
    { rule: 'hdbscan', group: 'clustering', cost: 'n2', impl: 'ts', n: 50, d: 1e4, f: 5, medianMs: 0.2, madMs: 0.01, samples: 50, floorMs: null, floorPct: null },
    { rule: 'hdbscan', group: 'clustering', cost: 'n2', impl: 'ts', n: 50, d: 1e5, f: 5, medianMs: 0.21, madMs: 0.01, samples: 50, floorMs: null, floorPct: null },
  ];

  it('the panels against d plot exactly the timed records at the chart n; hdbscan is plotted against n', async () => {
    const { renderSvg, parseSvgPoints } = await load('svg.mjs');
    const svg = renderSvg(records, { n: 50 });
    expect(svg.startsWith('<svg')).toBe(true);
    const points = parseSvgPoints(svg);
    const dPoints = records
      .filter((r) => r.n === 50 && !r.error && r.rule !== 'hdbscan')
      .map((r) => ({ rule: r.rule, impl: r.impl, n: r.n, d: r.d, ms: r.medianMs }));
    expect(points.filter((p: Rec) => p.rule !== 'hdbscan')).toEqual(dPoints);
    // hdbscan: one point per n (from the largest d timed there), on an axis of n
    expect(points.filter((p: Rec) => p.rule === 'hdbscan').map((p: Rec) => [p.n, p.d])).toEqual([[10, 1e4], [50, 1e5]]);
    expect(svg).toMatch(/data-panel="hdbscan" data-x="n"/);
    expect(svg).toMatch(/data-panel="krum" data-x="d"/);
    expect(svg).toContain('n (input n×n, any d)');
    // old records carry no cost: the registry says hdbscan is n×n
    const legacy = records.map(({ cost: _c, ...r }) => r);
    expect(renderSvg(legacy, { n: 50 })).toMatch(/data-panel="hdbscan" data-x="n"/);
    // the JSON a run writes holds the same records, so its round trip plots the same points
    const json = JSON.parse(JSON.stringify({ records }));
    expect(parseSvgPoints(renderSvg(json.records, { n: 50 }))).toEqual(points);
  });

  it('the table shows every record once, with robust-agg ÷ peer ratios from the same medians', async () => {
    const { tableRows, tableCells, textTable, markdownTable } = await load('report.mjs');
    const rows = tableRows(records);
    // 8 robust-agg rows + the torch centeredClipping row that no robust-agg row covers
    expect(rows.length).toBe(8 + 1);
    const meanSmall = rows.find((r: Rec) => r.rule === 'mean' && r.d === 1e4 && r.impl === 'ts');
    expect(meanSmall.peers.numpy.ratio).toBe(2);
    const krum = rows.find((r: Rec) => r.rule === 'krum' && r.n === 50 && r.impl === 'ts');
    expect(krum.peers.torch.ratio).toBe(0.5);
    const cells = tableCells(records);
    const header = cells[0];
    const body = cells.slice(1);
    const at = (rule: string, n: number, d: string) => body.find((c: string[]) => c[0] === rule && c[2] === String(n) && c[3] === d);
    expect(at('mean', 50, '1e4')[header.indexOf('median')]).toBe('2.00 ms');
    expect(at('mean', 50, '1e4')[header.indexOf('÷numpy')]).toBe('2.00×');
    expect(at('krum', 50, '1e4')[header.indexOf('÷torch')]).toBe('0.50×');
    expect(at('mda', 50, '1e4')[header.indexOf('median')]).toBe('refused');
    const text = textTable(records);
    const md = markdownTable(records);
    for (const c of body) {
      expect(text).toContain(c[header.indexOf('median')]);
      expect(md).toContain(`| ${c[0]} | ${c[1]} | ${c[2]} | ${c[3]} |`);
    }
    expect(md.split('\n').length).toBe(body.length + 2);
  });

  it('the headline: each rule at n = 100, d = 1e6 against the faster peer', async () => {
    const { headlineRows, headlineImpl, beforeAfterRows, summarySize } = await load('before-after.mjs');
    const rec = (impl: string, rule: string, n: number, d: number, medianMs: number, extra = {}) =>
      ({ impl, rule, n, d, medianMs, group: 'aggregator', samples: 5, ...extra });
    const recs = [
      rec('ts', 'krum', 100, 1e6, 1000),
      rec('fast', 'krum', 100, 1e6, 50),
      rec('numpy', 'krum', 100, 1e6, 25),
      rec('torch', 'krum', 100, 1e6, 400),
      rec('fast', 'krum', 200, 1e6, 200),
      rec('fast', 'krum', 100, 1e5, 5),
      rec('ts', 'bulyan', 100, 1e6, 0, { error: 'skipped' }),
      rec('fast', 'bulyan', 100, 1e6, 80),
      rec('fast', 'alie', 100, 1e6, 10, { group: 'attack' }),
    ];
    const size = summarySize(recs);
    expect(size).toEqual({ n: 100, d: 1e6 });
    const rows = beforeAfterRows(recs, size);
    expect(rows.map((r: Rec) => r.rule)).toEqual(['krum', 'bulyan']);
    expect(rows[0]).toEqual({ rule: 'krum', before: 1000, after: 50, speedup: 20, peer: 'numpy', peerMs: 25, vsPeer: 2 });
    expect(summarySize([rec('fast', 'krum', 10, 1e4, 1)])).toBeNull();
    expect(headlineImpl(recs, size)).toBe('fast');
    const h = headlineRows(recs, size, 'fast');
    expect(h.map((r: Rec) => [r.rule, r.peer, r.vsPeer])).toEqual([['krum', 'numpy', 2], ['bulyan', null, null], ['alie', null, null]]);
  });

  it('the page says which run it shows, and that a partial run is partial', async () => {
    const { renderDocs, runLabel, runMode } = await load('docs.mjs');
    const base = {
      createdAt: '2026-12-03T10:00:00.000Z',
      command: 'npm run bench',
      machine: { cpu: 'x', cores: 2, memoryGiB: 8, platform: 'linux', node: 'v20', v8: '11' },
      backends: [{ name: 'fast', label: 'fast kernels' }],
      floor: null,
      peers: { groups: [], message: 'disabled with --no-peers' },
      messages: [],
      wallMs: 1000,
      records: records.slice(0, 2).map((r) => ({ ...r, impl: 'fast', samplesTarget: 5, fewSamples: false })),
      memory: [],
      sampling: { minSamples: 5, budgetMs: 200, maxCellMs: 2500, slowCallMs: 500, maxCallMs: 20000 },
      estimate: { upfrontMs: 150_000, basis: 'test', fullGridMs: null },
    };
    expect(runMode({ ...base, mode: 'default' })).toBe('default');
    expect(runLabel({ ...base, mode: 'default' })).toMatch(/the default run/);
    expect(runLabel({ ...base, mode: 'full' })).toMatch(/full grid/);
    const partial = renderDocs({ ...base, mode: 'quick', partial: true, interrupted: { reason: 'interrupted (Ctrl-C)', cellsDone: 2, cellsPlanned: 9 } });
    expect(partial).toMatch(/Partial run/);
    expect(partial).toMatch(/2 of 9 cells/);
    expect(partial).toMatch(/--quick/);
    // a schema-1 run (no mode, no sampling) is described with its own harness's rule
    const legacy = renderDocs({ ...base, sampling: undefined, mode: undefined, budgets: { base: 500, estimate: '' }, options: { quick: false, n: [10, 50, 100, 200], d: [1e4, 1e5, 1e6] } });
    expect(legacy).toMatch(/full grid/);
    expect(legacy).toMatch(/predates the ≥ 5 samples rule/);
  });
});

describe('build-if-stale', () => {
  function tree() {
    const root = mkdtempSync(join(tmpdir(), 'bench-stale-'));
    mkdirSync(join(root, 'src', 'core'), { recursive: true });
    mkdirSync(join(root, 'assembly'), { recursive: true });
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'src', 'core', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'assembly', 'k.ts'), '// kernel\n');
    writeFileSync(join(root, 'package.json'), '{}\n');
    writeFileSync(join(root, 'dist', 'index.js'), '');
    writeFileSync(join(root, 'dist', 'index.d.ts'), '');
    const at = (rel: string, s: number) => utimesSync(join(root, rel), s, s);
    for (const p of ['src/core/a.ts', 'src/core', 'src', 'assembly/k.ts', 'assembly', 'package.json']) at(p, 1000);
    for (const p of ['dist/index.js', 'dist/index.d.ts']) at(p, 2000);
    return { root, at };
  }

  it('is fresh when dist/ is newer than every input, stale when a source, a kernel or a config is newer', async () => {
    const { staleness } = await import(new URL('../../scripts/build-if-stale.mjs', import.meta.url).href);
    const { root, at } = tree();
    try {
      expect(staleness(root).stale).toBe(false);
      at('src/core/a.ts', 3000);
      const s = staleness(root);
      expect(s.stale).toBe(true);
      expect(s.reason).toMatch(/src\/core\/a\.ts changed after the last build/);
      at('src/core/a.ts', 1000);
      at('assembly/k.ts', 3000);
      expect(staleness(root).newestInput.path).toBe('assembly/k.ts');
      at('assembly/k.ts', 1000);
      at('package.json', 3000);
      expect(staleness(root).stale).toBe(true);
      at('package.json', 1000);
      // a removed source file shows in its directory's time
      at('src/core', 3000);
      expect(staleness(root).stale).toBe(true);
      at('src/core', 1000);
      // the oldest file of dist/ is the build's time: one old leftover makes it stale
      at('dist/index.d.ts', 500);
      expect(staleness(root).stale).toBe(true);
      at('dist/index.d.ts', 2000);
      expect(staleness(root).stale).toBe(false);
      rmSync(join(root, 'dist', 'index.d.ts'));
      expect(staleness(root)).toMatchObject({ stale: true, reason: 'dist/index.d.ts is missing' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('npm run bench rebuilds through it only when stale', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.prebench).toBe('node scripts/build-if-stale.mjs');
    expect(pkg.scripts.bench).toBe('node bench/run.mjs');
  });
});

describe('Ctrl-C', () => {
  it(
    'stops a run in the middle of a long call, kills its children and writes the partial results',
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'bench-sigint-'));
      try {
        const child = spawn(
          process.execPath,
          [join(ROOT, 'bench', 'run.mjs'), '--only', 'mean,meamed', '--n', '10', '--d', '1000', '--no-peers', '--no-floor', '--out', out],
          { cwd: ROOT, env: { ...process.env, ROBUST_AGG_BENCH_STALL_AFTER: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        let stdout = '';
        child.stdout.on('data', (b) => (stdout += b.toString()));
        const exited = new Promise<{ code: number | null; signal: string | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
        // the timing process says when it is stuck in its (simulated) long call, after one record
        const runnerPid = await new Promise<number>((res, rej) => {
          child.stderr.on('data', (b) => {
            stderr += b.toString();
            const m = /timing process (\d+) stalls/.exec(stderr);
            if (m) res(Number(m[1]));
          });
          child.on('exit', () => rej(new Error(`the bench exited before stalling:\n${stderr}`)));
        });
        child.kill('SIGINT');
        const { code } = await exited;
        expect(code).toBe(130);
        // the timing process is gone too (SIGKILL is delivered asynchronously: poll)
        let alive = true;
        for (let i = 0; i < 100 && alive; i++) {
          try {
            process.kill(runnerPid, 0);
            await new Promise((r) => setTimeout(r, 50));
          } catch {
            alive = false;
          }
        }
        expect(alive).toBe(false);
        const result = JSON.parse(readFileSync(join(out, 'last-run.json'), 'utf8'));
        expect(result.partial).toBe(true);
        expect(result.interrupted.reason).toMatch(/Ctrl-C/);
        expect(result.interrupted.cellsDone).toBe(1);
        expect(result.interrupted.cellsPlanned).toBe(2);
        expect(result.records.map((r: Rec) => r.rule)).toEqual(['mean']);
        expect(result.records[0].samples).toBeGreaterThanOrEqual(5);
        expect(readFileSync(join(out, 'last-run.md'), 'utf8')).toMatch(/Partial run/);
        expect(existsSync(join(out, 'last-run.svg'))).toBe(true);
        expect(stdout).toMatch(/PARTIAL RUN/);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

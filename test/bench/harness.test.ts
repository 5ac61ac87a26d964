// Pure helpers of the benchmark harness (bench/lib/*.mjs): flag parsing, the floor arithmetic, the
// budget plan, the registry selection, the data files, and that the table, the JSON and the SVG are
// rendered from the same records and agree. No timing is asserted here (DESIGN §6).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The harness is plain ESM JavaScript without type declarations: load it untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = any;
const load = (rel: string): Promise<Module> => import(new URL(`../../bench/lib/${rel}`, import.meta.url).href);

describe('bench flags', () => {
  it('defaults to the full grid with peers, memory and a progress bar', async () => {
    const { parseArgs } = await load('cli.mjs');
    const o = parseArgs([]);
    expect(o).toMatchObject({ quick: false, only: null, n: null, d: null, backends: null, peers: true, memory: true });
  });

  it('parses lists, scientific notation and --flag=value', async () => {
    const { parseArgs } = await load('cli.mjs');
    const o = parseArgs(['--only', 'krum,flame', '--n', '50', '--d=1e6,1e5', '--quick', '--no-peers', '--backend', 'ts,tfjs-wasm']);
    expect(o.only).toEqual(['krum', 'flame']);
    expect(o.n).toEqual([50]);
    expect(o.d).toEqual([1e6, 1e5]);
    expect(o.quick).toBe(true);
    expect(o.peers).toBe(false);
    expect(o.backends).toEqual(['ts', 'tfjs-wasm']);
    expect(parseArgs(['--peer-threads', '1', '--max-call-s', '60']).peerThreads).toBe(1);
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

describe('budget plan and grid estimate', () => {
  it('gives d = 1e6 the whole budget and smaller d a share', async () => {
    const { budgetFor, planCell } = await load('timing.mjs');
    expect(budgetFor(1e6, 1500)).toBe(1500);
    expect(budgetFor(1e5, 1500)).toBe(500);
    expect(budgetFor(1e4, 1500)).toBe(250);
    expect(planCell(null, 100)).toEqual({ warmup: true, iterations: 1, time: 100 });
    expect(planCell(50, 100)).toEqual({ warmup: true, iterations: 1, time: 100 });
    // predicted above the budget: one call, no warm-up
    expect(planCell(500, 100)).toEqual({ warmup: false, iterations: 1, time: 0 });
  });

  it('calls a slow cell once and a budgeted one warm-up + samples times, sync or async', async () => {
    const { timeCell } = await load('timing.mjs');
    let calls = 0;
    const slow = await timeCell(() => {
      calls += 1;
      return calls;
    }, { warmup: false, iterations: 1, time: 0 });
    expect(calls).toBe(1);
    expect(slow.samples).toBe(1);
    calls = 0;
    const budgeted = await timeCell(() => {
      calls += 1;
    }, { warmup: true, iterations: 1, time: 5 });
    expect(calls).toBe(budgeted.samples + 1);
    calls = 0;
    await timeCell(async () => {
      await new Promise((r) => setTimeout(r, 2));
      calls += 1; // after the await: counted by the time timeCell returns only if it awaited the promise
    }, { warmup: false, iterations: 1, time: 0 });
    expect(calls).toBe(1);
  });

  it('before/after: plain vs fast at the largest d and the n closest to 100, with the fastest peer', async () => {
    const { beforeAfterRows, summarySize } = await load('before-after.mjs');
    const rec = (impl: string, rule: string, n: number, d: number, medianMs: number, extra = {}) =>
      ({ impl, rule, n, d, medianMs, group: 'aggregator', ...extra });
    const records = [
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
    const size = summarySize(records);
    expect(size).toEqual({ n: 100, d: 1e6 });
    const rows = beforeAfterRows(records, size);
    expect(rows.map((r: { rule: string }) => r.rule)).toEqual(['krum', 'bulyan']);
    expect(rows[0]).toEqual({ rule: 'krum', before: 1000, after: 50, speedup: 20, peer: 'numpy', peerMs: 25, vsPeer: 2 });
    expect(rows[1].before).toBeNull();
    expect(rows[1].peer).toBeNull();
    expect(summarySize([rec('fast', 'krum', 10, 1e4, 1)])).toBeNull();
  });

  it('extrapolates cells by n·d or n²d and skips those above the per-call limit', async () => {
    const { estimateGrid } = await load('estimate.mjs');
    const records = [
      { impl: 'ts', rule: 'mean', n: 10, d: 1e4, medianMs: 1 },
      { impl: 'ts', rule: 'krum', n: 10, d: 1e4, medianMs: 1 },
    ];
    const costOf = (r: string) => (r === 'krum' ? 'n2d' : 'nd');
    const est = estimateGrid(records, costOf, { ns: [10, 20], ds: [1e4], baseBudget: 60, maxCallMs: 3 });
    // budget at d = 1e4 is 10 ms: mean (1 + 10) + (2 + 10); krum n=10: 1 + 10; n=20: 1 ms × (20²+8·20)/(10²+8·10) ≈ 3.1 ms > 3 → skipped
    expect(est.byImpl.ts).toBeCloseTo(11 + 12 + 11, 6);
    expect(est.skipped).toEqual(['krum (ts) n=20 d=10000']);
  });

  it('counts nothing for sizes a rule refused at a smaller n', async () => {
    const { estimateGrid } = await load('estimate.mjs');
    const records = [
      { impl: 'ts', rule: 'mda', n: 10, d: 1e4, medianMs: 1 },
      { impl: 'ts', rule: 'mda', n: 20, d: 1e4, error: 'C(n, f) too large', errorCode: 'UNSUPPORTED' },
    ];
    const est = estimateGrid(records, () => 'n2d', { ns: [10, 20, 40], ds: [1e4], baseBudget: 60, maxCallMs: 1e9 });
    expect(est.byImpl.ts).toBeCloseTo(1 + 10, 6);
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

describe('table, JSON and SVG agree', () => {
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
  ];

  it('the chart plots exactly the timed records at its n, with their medians', async () => {
    const { renderSvg, parseSvgPoints } = await load('svg.mjs');
    const svg = renderSvg(records, { n: 50 });
    expect(svg.startsWith('<svg')).toBe(true);
    const points = parseSvgPoints(svg);
    const expected = records
      .filter((r) => r.n === 50 && !r.error)
      .map((r) => ({ rule: r.rule, impl: r.impl, n: r.n, d: r.d, ms: r.medianMs }));
    expect(points).toEqual(expected);
    // the JSON a run writes holds the same records, so its round trip plots the same points
    const json = JSON.parse(JSON.stringify({ records }));
    expect(parseSvgPoints(renderSvg(json.records, { n: 50 }))).toEqual(points);
    // default n: the largest timed one
    expect(parseSvgPoints(renderSvg(records)).every((p: { n: number }) => p.n === 50)).toBe(true);
  });

  it('the table shows every record once, with robust-agg ÷ peer ratios from the same medians', async () => {
    const { tableRows, tableCells, textTable, markdownTable } = await load('report.mjs');
    const rows = tableRows(records);
    // 5 robust-agg rows + the torch centeredClipping row that no robust-agg row covers
    expect(rows.length).toBe(5 + 1);
    const meanSmall = rows.find((r: { rule: string; d: number; impl: string }) => r.rule === 'mean' && r.d === 1e4 && r.impl === 'ts');
    expect(meanSmall.peers.numpy.ratio).toBe(2);
    const krum = rows.find((r: { rule: string; n: number; impl: string }) => r.rule === 'krum' && r.n === 50 && r.impl === 'ts');
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
});

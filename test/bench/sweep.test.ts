// `npm run bench -- --sweep` (bench/lib/sweep.mjs, bench/lib/sweep-svg.mjs): the flags and the
// plan (memory cap, order), the least-squares exponents on synthetic timings, the prediction that
// skips slow calls, the fast > plain check, and a real run on a tiny grid without peers that
// writes well-formed JSON and SVG which agree with each other. No timing is asserted (DESIGN §6):
// the timings fed to the fits are synthetic, and the run is checked for what it wrote, not how fast.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(ROOT, 'bench', 'run.mjs'), ...args], { cwd: ROOT, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      res({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('sweep flags and plan', () => {
  it('defaults to the headline rules over n ∈ {10, 100, 1000} × d ∈ {1e4 … 1e7}, 4 GiB, 20 s', async () => {
    const { parseSweepArgs, planSweep, SWEEP_RULES } = await load('sweep.mjs');
    const o = parseSweepArgs(['--sweep']);
    expect(o).toMatchObject({ n: [10, 100, 1000], d: [1e4, 1e5, 1e6, 1e7], maxGiB: 4, maxSeconds: 20, peers: true, out: 'bench/results/sweep' });
    const p = planSweep(o);
    expect(p.rules).toEqual(SWEEP_RULES);
    // n·d·4 bytes: 1000 × 1e7 is 37 GiB, the only cell over 4 GiB
    expect(p.skippedMemory.map((c: Rec) => [c.n, c.d])).toEqual([[1000, 1e7]]);
    expect(p.cells.length).toBe(11);
    // smallest n·d first; at equal n·d the larger d first
    for (let i = 1; i < p.cells.length; i++) expect(p.cells[i].n * p.cells[i].d).toBeGreaterThanOrEqual(p.cells[i - 1].n * p.cells[i - 1].d);
    const tie = p.cells.filter((c: Rec) => c.n * c.d === 1e9).map((c: Rec) => [c.n, c.d]);
    expect(tie).toEqual([[100, 1e7], [1000, 1e6]]);
  });

  it('reads --n, --d, --only, --max-gib, --max-seconds, --out and rejects what it does not know', async () => {
    const { parseSweepArgs, planSweep } = await load('sweep.mjs');
    const o = parseSweepArgs(['--sweep', '--n', '10,100', '--d=1e4,1e6', '--only', 'krum,mean', '--max-gib', '0.1', '--max-seconds', '5', '--out', 'x/y.json', '--no-peers']);
    expect(o).toMatchObject({ n: [10, 100], d: [1e4, 1e6], only: ['krum', 'mean'], maxGiB: 0.1, maxSeconds: 5, out: 'x/y', peers: false });
    const p = planSweep(o);
    expect(p.rules).toEqual(['krum', 'mean']);
    // 100 × 1e6 × 4 B = 0.37 GiB > 0.1
    expect(p.skippedMemory.map((c: Rec) => [c.n, c.d])).toEqual([[100, 1e6]]);
    expect(() => parseSweepArgs(['--only', 'hdbscan'])).toThrow(/not a headline rule/);
    expect(() => parseSweepArgs(['--max-gib', '-1'])).toThrow(/positive/);
    expect(() => parseSweepArgs(['--frobnicate'])).toThrow(/unknown flag/);
  });

  it('the harness lists --sweep in its help', async () => {
    const { HELP } = await load('cli.mjs');
    expect(HELP).toMatch(/--sweep/);
  });
});

describe('fitted exponents', () => {
  const grid = (f: (n: number, d: number) => number) =>
    [10, 100, 1000].flatMap((n) => [1e4, 1e5, 1e6].map((d) => ({ n, d, ms: f(n, d) })));

  it('t = c·n²·d gives a = 2, b = 1 and c; t = c·n·d gives 1 and 1', async () => {
    const { fitExponents } = await load('sweep.mjs');
    const g = fitExponents(grid((n, d) => 3e-7 * n * n * d));
    expect(g.a).toBeCloseTo(2, 9);
    expect(g.b).toBeCloseTo(1, 9);
    expect(g.c).toBeCloseTo(3e-7, 15);
    expect(g.rmsLog10).toBeLessThan(1e-9);
    const l = fitExponents(grid((n, d) => 5e-6 * n * d));
    expect(l.a).toBeCloseTo(1, 9);
    expect(l.b).toBeCloseTo(1, 9);
  });

  it('is the least-squares fit on log t when the data do not follow a power law exactly', async () => {
    const { fitExponents } = await load('sweep.mjs');
    // a fixed cost plus a linear one: the fitted slopes lie strictly between 0 and 1
    const f = fitExponents(grid((n, d) => 1 + 1e-6 * n * d));
    expect(f.a).toBeGreaterThan(0);
    expect(f.a).toBeLessThan(1);
    expect(f.rmsLog10).toBeGreaterThan(0);
    // symmetric noise ±10 % in log space on an n·d² law averages out on this balanced grid
    const pts = grid((n, d) => 1e-9 * n * d * d).map((p: Rec, i: number) => ({ ...p, ms: p.ms * (i % 2 ? 1.1 : 1 / 1.1) }));
    const g = fitExponents(pts);
    expect(g.a).toBeCloseTo(1, 1);
    expect(g.b).toBeCloseTo(2, 1);
  });

  it('fits only the exponents whose variable varies; null with too few points', async () => {
    const { fitExponents } = await load('sweep.mjs');
    const oneN = fitExponents([1e4, 1e5, 1e6].map((d) => ({ n: 100, d, ms: 2e-3 * d })));
    expect(oneN.a).toBeNull();
    expect(oneN.b).toBeCloseTo(1, 9);
    expect(fitExponents([{ n: 10, d: 1e4, ms: 1 }])).toBeNull();
    // two points, two parameters... but both n and d vary: three parameters, too few
    expect(fitExponents([{ n: 10, d: 1e4, ms: 1 }, { n: 100, d: 1e5, ms: 100 }])).toBeNull();
    // non-positive times are not points
    expect(fitExponents([{ n: 10, d: 1e4, ms: 0 }, { n: 10, d: 1e5, ms: 1 }])).toBeNull();
  });

  it('predicts a call from the nearest smaller cells with the steeper of the model and the fit', async () => {
    const { predictMs, NOMINAL } = await load('sweep.mjs');
    const pts = [{ n: 10, d: 1e4, ms: 1 }, { n: 100, d: 1e4, ms: 100 }, { n: 10, d: 1e5, ms: 10 }];
    // Gram model: 100 → 1000 clients is ×100
    expect(predictMs(pts, NOMINAL.n2d, 1000, 1e4)).toBeCloseTo(1e4, 6);
    // nominal nd (a = 1) but measured a = 2: the measured growth is used
    expect(predictMs(pts, NOMINAL.nd, 1000, 1e4)).toBeCloseTo(1e4, 6);
    // flattened measured growth (overheads) does not lower the model's
    const flat = [{ n: 10, d: 1e4, ms: 1 }, { n: 10, d: 1e5, ms: 1.5 }];
    expect(predictMs(flat, NOMINAL.nd, 10, 1e6)).toBeCloseTo(15, 6);
    // two nearest smaller cells (n·d ties): the smaller of their predictions
    const tie = [{ n: 10, d: 1e5, ms: 1 }, { n: 100, d: 1e4, ms: 5 }];
    expect(predictMs(tie, NOMINAL.nd, 100, 1e5)).toBeCloseTo(10, 6);
    expect(predictMs([], NOMINAL.nd, 10, 1e6)).toBeNull();
    expect(predictMs(pts, NOMINAL.nd, 5, 1e4)).toBeNull();
  });
});

describe('fast ≤ plain', () => {
  const rec = (impl: string, rule: string, n: number, d: number, ms: number, mad = 0) => ({ impl, rule, n, d, medianMs: ms, madMs: mad, cost: 'nd' });

  it('lists every cell where the fast kernels took longer than the plain ones, and only those', async () => {
    const { fastSlowerThanPlain, summarize, textSummary } = await load('sweep.mjs');
    const records = [
      rec('fast', 'mean', 10, 1e4, 1), rec('ts', 'mean', 10, 1e4, 2),
      rec('fast', 'mean', 100, 1e4, 3, 0.1), rec('ts', 'mean', 100, 1e4, 2, 0.1),
      rec('fast', 'mean', 10, 1e5, 2.05, 0.1), rec('ts', 'mean', 10, 1e5, 2, 0.1),
      rec('fast', 'mean', 100, 1e5, 5), { impl: 'ts', rule: 'mean', n: 100, d: 1e5, error: 'skipped: predicted 30 s > 20 s per call' },
      rec('fast', 'krum', 10, 1e4, 1), rec('ts', 'krum', 10, 1e4, 1),
      rec('numpy', 'mean', 10, 1e4, 0.1), rec('torch', 'mean', 10, 1e4, 0.5),
    ];
    const v = fastSlowerThanPlain(records);
    expect(v.map((x: Rec) => [x.rule, x.n, x.d])).toEqual([['mean', 100, 1e4], ['mean', 10, 1e5]]);
    expect(v[0]).toMatchObject({ fastMs: 3, plainMs: 2, ratio: 1.5, withinNoise: false });
    expect(v[1].withinNoise).toBe(true);
    const s = summarize(records, ['mean', 'krum']);
    expect(s.mean.violations.length).toBe(2);
    expect(s.krum.violations).toEqual([]);
    expect(textSummary(s)).toMatch(/fast > plain \(2 cells\)/);
    expect(textSummary(summarize(records.filter((r: Rec) => r.rule === 'krum'), ['krum']))).toMatch(/fast <= plain at every size/);
  });

  it('the peer series is the fastest of numpy and torch per cell', async () => {
    const { fastestPeerRecords } = await load('sweep.mjs');
    const out = fastestPeerRecords([rec('numpy', 'mean', 10, 1e4, 0.1), rec('torch', 'mean', 10, 1e4, 0.05), rec('numpy', 'krum', 10, 1e4, 2)]);
    expect(out.map((r: Rec) => [r.rule, r.impl, r.peerLib, r.medianMs])).toEqual([['mean', 'peer', 'torch', 0.05], ['krum', 'peer', 'numpy', 2]]);
  });
});

describe('a sweep run on a tiny grid (no peers)', () => {
  it(
    'writes JSON with every cell on fast and plain kernels, the fits and the check, and an SVG that agrees',
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'bench-sweep-'));
      try {
        // 10 × 128 × 4 B = 5 120 B is over the cap of 4 000 B: skipped for memory and said so
        const r = await runBench(['--sweep', '--n', '5,10', '--d', '64,128', '--only', 'mean,krum', '--no-peers', '--max-gib', String(4000 / 1024 ** 3), '--out', join(out, 'sw')]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/n=10 d=128 not run/);
        expect(r.stdout).toMatch(/fitted a \(n\), b \(d\)/);
        const result = JSON.parse(readFileSync(join(out, 'sw.json'), 'utf8'));
        expect(result.partial).toBe(false);
        expect(result.skippedMemory.map((c: Rec) => [c.n, c.d])).toEqual([[10, 128]]);
        const cells = [[5, 64], [5, 128], [10, 64]];
        for (const rule of ['mean', 'krum']) {
          for (const impl of ['fast', 'ts']) {
            const mine = result.records.filter((x: Rec) => x.rule === rule && x.impl === impl);
            expect(mine.map((x: Rec) => [x.n, x.d]).sort()).toEqual([...cells].sort());
            for (const x of mine) {
              expect(x.error).toBeUndefined();
              expect(x.medianMs).toBeGreaterThan(0);
            }
            // three cells, two n, two d: both exponents fitted
            const fit = result.summary[rule].fits[impl];
            expect(Number.isFinite(fit.a) && Number.isFinite(fit.b)).toBe(true);
          }
        }
        expect(result.summary.krum.cost).toBe('n2d');
        expect(result.summary.mean.cost).toBe('nd');
        const svg = readFileSync(join(out, 'sw.svg'), 'utf8');
        expect(svg.startsWith('<svg')).toBe(true);
        expect(svg.trim().endsWith('</svg>')).toBe(true);
        expect((svg.match(/<svg/g) ?? []).length).toBe(1);
        expect(svg).toMatch(/data-panel="mean" data-x="nd"/);
        expect(svg).toMatch(/data-panel="krum" data-x="n2d"/);
        expect((svg.match(/data-reference="slope-1"/g) ?? []).length).toBe(2);
        // every timed record is a point with its time
        for (const x of result.records) {
          expect(svg).toContain(`data-rule="${x.rule}" data-impl="${x.impl}" data-n="${x.n}" data-d="${x.d}" data-ms="${x.medianMs}"`);
        }
        expect(svg).not.toMatch(/NaN|Infinity|undefined/);
        // --from re-renders the chart and the summary from the saved JSON, running nothing
        const again = await runBench(['--sweep', '--from', join(out, 'sw.json')]);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toMatch(/fitted a \(n\), b \(d\)/);
        expect(readFileSync(join(out, 'sw.svg'), 'utf8')).toBe(svg);
        expect(JSON.parse(readFileSync(join(out, 'sw.json'), 'utf8'))).toEqual(result);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    90_000,
  );

  it(
    'skips a call predicted above --max-seconds from the smaller cells, and says so',
    async () => {
      const out = mkdtempSync(join(tmpdir(), 'bench-sweep-'));
      try {
        // 1 µs: every cell after the first is predicted above it
        const r = await runBench(['--sweep', '--n', '5', '--d', '64,128', '--only', 'mean', '--no-peers', '--max-seconds', '1e-6', '--out', join(out, 'sw')]);
        expect(r.code, r.stderr).toBe(0);
        const result = JSON.parse(readFileSync(join(out, 'sw.json'), 'utf8'));
        for (const impl of ['fast', 'ts']) {
          const first = result.records.find((x: Rec) => x.impl === impl && x.d === 64);
          expect(first.medianMs).toBeGreaterThan(0);
          const second = result.records.find((x: Rec) => x.impl === impl && x.d === 128);
          expect(second.error).toMatch(/^skipped: predicted .* per call/);
          expect(second.predictedMs).toBeGreaterThan(1e-3);
        }
        expect(result.skippedTime.length).toBe(2);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    90_000,
  );
});

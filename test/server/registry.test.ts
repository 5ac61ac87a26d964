// The registry: every rule of the library is listed, its option keys are exactly the keys the rule
// itself accepts (read from the UNKNOWN_OPTION error the rule throws, so a rule that gains or loses
// an option fails here until the registry follows), options are checked at creation, and an
// aggregator created by name returns what the function returns, bit for bit.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as aggregators from '../../src/aggregators/index.js';
import * as preAggregators from '../../src/pre-aggregators/index.js';
import { RobustAggError } from '../../src/core/errors.js';
import { createAggregator, listAggregators, ruleAcceptedKeys } from '../../src/server/registry.js';
import { gaussianRows } from '../helpers/data.js';
import { ruleCases, roundRows } from './cases.js';

/** The keys a function accepts, from its UNKNOWN_OPTION message ("(known: a, b)"). */
function keysOf(fn: (u: Float32Array[], o: object) => unknown, extraArg = false): string[] {
  try {
    if (extraArg) (fn as unknown as (f: number, o: object) => unknown)(0, { '\u0000x': 1 });
    else fn([new Float32Array(1)], { '\u0000x': 1 });
  } catch (e) {
    expect(e).toBeInstanceOf(RobustAggError);
    expect((e as RobustAggError).code).toBe('UNKNOWN_OPTION');
    const m = /\(known: (.*)\)$/.exec((e as Error).message);
    expect(m).not.toBeNull();
    return m![1] === 'none' ? [] : m![1].split(', ');
  }
  throw new Error('the rule accepted an unknown option');
}

const functions = aggregators as unknown as Record<string, (u: Float32Array[], o: object) => unknown>;
const preFunctions = preAggregators as unknown as Record<string, (u: Float32Array[], o: object) => unknown>;

describe('registry listing', () => {
  const infos = listAggregators();
  const names = infos.map((i) => i.name);

  it('lists every aggregator of src/aggregators (each …WithDecision) and every pre-aggregator', () => {
    const rules = Object.keys(aggregators)
      .filter((k) => k.endsWith('WithDecision'))
      .map((k) => k.slice(0, -'WithDecision'.length));
    expect(rules.length).toBeGreaterThan(20);
    for (const r of rules) expect(names, `registry misses ${r}`).toContain(r);
    for (const p of Object.keys(preAggregators).filter((k) => k !== 'pipeline')) expect(names, `registry misses ${p}`).toContain(p);
    expect(names).toContain('pipeline');
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(infos.filter((i) => i.kind !== 'pipeline').map((i) => [i.name, i] as const))(
    "%s: the registry's keys are exactly the rule's own accepted keys",
    (name, info) => {
      const own =
        info.kind === 'preAggregator' ? keysOf(preFunctions[name]) : keysOf(functions[`${name}WithDecision`]);
      expect(Object.keys(info.options).sort()).toEqual([...own].sort());
      expect(ruleAcceptedKeys(name)).toEqual(own);
      // Weighted iff the rule accepts weights: the other rules gain the flag when they gain the option.
      expect(info.weights).toBe(own.includes('weights'));
      expect(Object.keys(info.options).includes('weights')).toBe(info.weights);
    },
  );

  it('mean takes weights, krum does not; every schema entry is well-formed', () => {
    const byName = new Map(infos.map((i) => [i.name, i]));
    expect(byName.get('mean')!.weights).toBe(true);
    expect(byName.get('krum')!.weights).toBe(false);
    expect(byName.get('krum')!.options.f).toMatchObject({ type: 'integer', min: 0, required: true });
    for (const info of infos) {
      expect(Object.isFrozen(info)).toBe(true);
      for (const [key, s] of Object.entries(info.options)) {
        expect(s.description.length, `${info.name}.${key}`).toBeGreaterThan(5);
        if (s.type === 'integer' || s.type === 'number') {
          expect(s.min, `${info.name}.${key}`).toBeTypeOf('number');
          expect(s.max, `${info.name}.${key}`).toBeTypeOf('number');
        }
        if (s.type === 'enum') expect(s.values!.length).toBeGreaterThan(1);
      }
    }
  });
});

describe('createAggregator', () => {
  const d = 13;
  const rows = roundRows(11, d, 1);

  it.each(ruleCases(d).filter((c) => c.name !== 'pipeline' && c.name !== 'mixTailor' && c.name !== 'flDetector'))(
    '$name by name equals the function bit for bit',
    ({ name, options }) => {
      const agg = createAggregator(name, options);
      const direct = functions[`${name}WithDecision`](rows, { ...options }) as { aggregate: Float32Array; decision: unknown };
      const viaName = agg.withDecision(rows);
      expect(viaName.aggregate).toEqual(direct.aggregate);
      expect(viaName.decision).toEqual(direct.decision);
      expect(agg(rows)).toEqual(direct.aggregate);
      expect(agg.ruleName).toBe(name);
      expect(Object.isFrozen(agg.options)).toBe(true);
    },
  );

  it('a pipeline by names equals the composed functions', () => {
    const agg = createAggregator('pipeline', {
      pre: [{ name: 'nnm', options: { f: 1 } }, { name: 'bucketing', options: { bucketSize: 2, seed: 4 } }],
      aggregator: { name: 'geometricMedian', options: { maxIterations: 20 } },
    });
    const manual = aggregators.geometricMedian(preAggregators.bucketing(preAggregators.nnm(rows, { f: 1 }), { bucketSize: 2, seed: 4 }), {
      maxIterations: 20,
    });
    expect(agg(rows)).toEqual(manual);
    expect(agg.withDecision(rows).decision.rule).toBe('pipeline(nnm → bucketing → geometricMedian)');
    expect(createAggregator('pipeline', { aggregator: 'mean' })(rows)).toEqual(aggregators.mean(rows));
  });

  it('a MixTailor pool by names draws the same member and returns what that member returns', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const agg = createAggregator('mixTailor', { seed, pool: [{ name: 'krum', options: { f: 1 } }, 'coordinateMedian', 'geometricMedian'] });
      const manual = aggregators.mixTailorWithDecision(rows, {
        seed,
        pool: [(u) => aggregators.krum(u, { f: 1 }), aggregators.coordinateMedian, (u) => aggregators.geometricMedian(u)],
      });
      const got = agg.withDecision(rows);
      expect(got.aggregate).toEqual(manual.aggregate);
      expect((got.decision as aggregators.MixTailorDecision).drawn).toBe(manual.decision.drawn);
      expect((got.decision as aggregators.MixTailorDecision).member).toMatch(/^(krum|coordinateMedian|geometricMedian)/);
    }
  });

  it('flDetector takes its aggregator by name', () => {
    const globalModel = Float32Array.from({ length: d }, (_, j) => j / d);
    const got = createAggregator('flDetector', { globalModel, seed: 1, aggregator: { name: 'trimmedMean', options: { f: 1 } } }).withDecision(rows);
    const manual = aggregators.flDetectorWithDecision(rows, { globalModel, seed: 1, aggregator: (u) => aggregators.trimmedMean(u, { f: 1 }) });
    expect(got.aggregate).toEqual(manual.aggregate);
  });

  it('per-round options merge over the configured ones and are checked the same way', () => {
    const agg = createAggregator('mean');
    const weights = [3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5];
    expect(agg.withDecision(rows, { weights }).aggregate).toEqual(aggregators.mean(rows, { weights }));
    expect(() => agg.withDecision(rows, { wieghts: weights })).toThrow(/unknown option 'wieghts'/);
    const cc = createAggregator('centeredClipping', { tau: 1 });
    const center = rows[3];
    expect(cc.withDecision(rows, { center }).aggregate).toEqual(aggregators.centeredClipping(rows, { tau: 1, center }));
  });

  it('unknown options throw UNKNOWN_OPTION naming the key and the accepted ones (the rules’ own check)', () => {
    const err = (() => {
      try {
        createAggregator('geometricMedian', { tol: 1e-6 });
      } catch (e) {
        return e as RobustAggError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(RobustAggError);
    expect(err!.code).toBe('UNKNOWN_OPTION');
    expect(err!.message).toMatch(/^geometricMedian: unknown option 'tol' \(known: maxIterations, tolerance, nu, (weights, )?nonFinite\)$/);
    expect(() => createAggregator('krum', { f: 1, weights: [1] })).toThrow(/krum: option 'weights' is not accepted: krum has no weighted form/);
    expect(() => createAggregator('pipeline', { aggregator: { name: 'krum', options: { f: 1, m: 2 } } })).toThrow(/krum: unknown option 'm'/);
    expect(() => createAggregator('mixTailor', { pool: [{ name: 'mean', opts: {} }] })).toThrow(/unknown option 'opts'/);
  });

  it.each([
    ['nope', {}, 'INVALID_OPTION', /unknown rule "nope" \(known: mean, coordinateMedian/],
    ['krum', {}, 'INVALID_OPTION', /krum: option f is required/],
    ['krum', { f: -1 }, 'INVALID_OPTION', /krum: f must be an integer in \[0, Infinity\], got -1/],
    ['krum', { f: 1.5 }, 'INVALID_OPTION', /f must be an integer/],
    ['geometricMedian', { maxIterations: 1e9 }, 'INVALID_OPTION', /maxIterations must be an integer in \[0, 10000\]/],
    ['geometricMedian', { tolerance: NaN }, 'INVALID_OPTION', /tolerance must be a number/],
    ['centeredClipping', { tau: 0 }, 'INVALID_OPTION', /tau must be a number in \(0, Infinity\]/],
    ['centeredClipping', { center: Float32Array.of(1, NaN) }, 'INVALID_OPTION', /center must be a non-empty finite Float32Array/],
    ['flame', { clusterOn: 'weights' }, 'INVALID_OPTION', /clusterOn must be one of updates, models/],
    ['mean', { weights: [1, -1] }, 'INVALID_OPTION', /weight of client 1 must be finite and ≥ 0/],
    ['mean', { nonFinite: 'ignore' }, 'INVALID_OPTION', /nonFinite must be one of drop, throw/],
    ['nnm', { f: 1 }, 'INVALID_OPTION', /'nnm' is a pre-aggregator/],
    ['pipeline', { aggregator: 'nnm' }, 'INVALID_OPTION', /'nnm' is a pre-aggregator, expected an aggregator/],
    ['pipeline', { pre: ['krum'], aggregator: 'mean' }, 'INVALID_OPTION', /'krum' is an aggregator, expected a pre-aggregator/],
    ['krum', null, 'INVALID_OPTION', /krum: options must be an object, got null/],
  ] as const)('createAggregator(%j, %j) throws %s', (name, options, code, message) => {
    try {
      createAggregator(name, options as never);
    } catch (e) {
      expect(e).toBeInstanceOf(RobustAggError);
      expect((e as RobustAggError).code).toBe(code);
      expect((e as Error).message).toMatch(message);
      return;
    }
    throw new Error('did not throw');
  });

  it('reads each option once (a getter cannot pass the check with one value and run with another)', () => {
    let reads = 0;
    const options = {
      get f() {
        reads++;
        return reads === 1 ? 1 : 100;
      },
    };
    const agg = createAggregator('krum', options);
    expect(reads).toBe(1);
    expect(agg(rows)).toEqual(aggregators.krum(rows, { f: 1 }));
  });

  it('property: by name equals the function for mean, coordinateMedian, krum, multiKrum on random data', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer(), (n, dd, seed) => {
        const u = gaussianRows(n, dd, seed);
        expect(createAggregator('mean')(u)).toEqual(aggregators.mean(u));
        expect(createAggregator('coordinateMedian')(u)).toEqual(aggregators.coordinateMedian(u));
        expect(createAggregator('krum', { f: 1 })(u)).toEqual(aggregators.krum(u, { f: 1 }));
        expect(createAggregator('multiKrum', { f: 1, m: 2 })(u)).toEqual(aggregators.multiKrum(u, { f: 1, m: 2 }));
      }),
      { numRuns: 40 },
    );
  });
});

// The MixTailor experiment's grid and one run of it: the pool's family representatives, MixTailor
// over the library's default pool, the mean and the omniscient mean, each trained under attacks
// tailored to one rule (or to the whole pool), on the Byrd-SAGA 784–50(tanh)–10 network.
//
// Setting (MixTailor's MNIST runs, seed code `dbqf/exps/mnist.py`: world size 12, 2 Byzantine):
// 10 honest workers + 2 Byzantine, mini-batches of 50, the ε-reverse family with the adaptive
// attacker's ε list {0.1, 0.5, 1, 10, 100}.
import {
  adaptiveSearch,
  bulyanVariant,
  coordinateMedian,
  createRng,
  fang,
  geometricMedian,
  initMlp,
  krum,
  mean,
  minibatch,
  mixTailorPool,
  mixTailorWithDecision,
  mlpEvaluator,
  mlpOracle,
  optimal,
  trainRobust,
} from '../../dist/index.js';
import { splitMnist } from '../byrd-saga/data.mjs';

export const SHAPE = { inputSize: 784, hidden: 50, classes: 10 };
export const HONEST = 10;
export const BYZANTINE = 2;
/** The adaptive attacker's candidate ε (seed code: `adaptive-attack-eps 0.1,0.5,1,10,100`). */
export const EPSILONS = [0.1, 0.5, 1, 10, 100];

/**
 * Norms of the Krum family in the experiment's MixTailor pool. The paper's pool has p = 1..16; the
 * library's krumLp costs ~75 ms of CPU per call for p ≥ 3 at this shape (against ~4 ms for p = 2),
 * which makes the pool-aware attacker 4.3 s per step, so the default keeps p = 1, 2 (`--norms`).
 */
export const DEFAULT_NORMS = [1, 2];

/**
 * The pool rules attacked one at a time: one member of each family of `mixTailorPool(f)`.
 * `make(f)` binds the rule to f (so the smoke test can use other sizes).
 */
export const RULES = {
  krum: { label: 'Krum (ℓ2)', member: 'krum-l2', make: (f) => (u) => krum(u, { f }) },
  coordinateMedian: { label: 'coordinate median', member: 'coordinateMedian', make: () => (u) => coordinateMedian(u) },
  geometricMedian: { label: 'geometric median', member: 'geometricMedian', make: () => (u) => geometricMedian(u) },
  bulyan: {
    label: 'Bulyan (Krum selection, coordinate median)',
    member: 'bulyan(krum,coordinateMedian)',
    make: (f) => (u) => bulyanVariant(u, { f, selection: 'krum', aggregation: 'coordinateMedian' }),
  },
};

/**
 * Other aggregators: `bulyanKrumMean` is the pool member bulyan(krum, mean) (Krum selection, plain
 * mean of the θ = n − 2f picks), `mixTailorRobust` is MixTailor over the pool without the four
 * Bulyan pairs that aggregate by the plain mean (see the page: the attack makes bulyan(krum, mean)
 * average a Byzantine vector).
 */
export const EXTRA = {
  bulyanKrumMean: { label: 'bulyan(krum, mean)', make: (f) => (u) => bulyanVariant(u, { f, selection: 'krum', aggregation: 'mean' }) },
};

/** Everything the server may run. `omniscient` is the mean with no Byzantine message. */
export const AGGREGATORS = [...Object.keys(RULES), ...Object.keys(EXTRA), 'mixTailor', 'mixTailorRobust', 'mean', 'omniscient'];

/** The pool without the Bulyan pairs that aggregate by the plain mean (16 → 12 Bulyan members). */
export function robustPool(pool) {
  return pool.filter((m) => !m.name.endsWith(',mean)'));
}

/**
 * Attacks by name. `adaptive:<target>`: MixTailor's adaptive attacker (ε-reverse, ε from EPSILONS,
 * minimising ⟨agg, μ⟩) tuned to one rule, or to a whole pool (`adaptive:pool`, `adaptive:robustPool`:
 * the expectation over MixTailor's draw). `ipm:<target>`: Xie et al.'s inner-product attack with ε
 * chosen every step by the line search of `optimal` (ByzFL's Optimal IPM) against the target.
 * `fang:krum`, `fang:median`: Fang et al.'s full-knowledge attacks on Krum and on the median.
 * `chosen` counts the ε the adaptive attacker sent.
 */
export function makeAttack(name, { f, pool, seed, chosen }) {
  if (name === 'none') return null;
  const [family, target] = name.split(':');
  const targetRule =
    target === 'pool' ? pool : target === 'robustPool' ? robustPool(pool) : (RULES[target] ?? EXTRA[target])?.make(f);
  if (family === 'adaptive' && targetRule) {
    return (honest) => {
      const { byzantine, epsilon } = adaptiveSearch(honest, { f, target: targetRule, epsilons: EPSILONS });
      if (chosen) chosen[epsilon] = (chosen[epsilon] ?? 0) + 1;
      return byzantine;
    };
  }
  if (family === 'ipm' && target in RULES) {
    const attack = optimal('ipm', targetRule, { evaluations: 8 });
    return (honest) => attack(honest, { f });
  }
  if (family === 'fang' && (target === 'krum' || target === 'median')) {
    const rng = createRng(seed ^ 0xfa9);
    return (honest) => fang(honest, { f, target, rng });
  }
  throw new Error(`unknown attack ${name}`);
}

/**
 * The server's rule for one cell. MixTailor draws from `pool` (`mixTailorPool(f, { norms })`:
 * Krum-ℓp for the given norms, coordinate median, geometric median, 16 Bulyan pairs; ¼ per family)
 * or from `robustPool(pool)`, with its own seeded generator (the same draws in every cell). For
 * MixTailor, `draws[member]` counts the steps each member was drawn and `reversed[member]` the steps
 * its output had a negative inner product with the honest mean (the step went uphill).
 */
export function makeAggregator(name, { f, byzantine, pool, seed, draws, reversed }) {
  if (name in RULES) return RULES[name].make(f);
  if (name in EXTRA) return EXTRA[name].make(f);
  if (name === 'mean' || name === 'omniscient') return (u) => mean(u);
  if (name === 'mixTailor' || name === 'mixTailorRobust') {
    const members = name === 'mixTailor' ? pool : robustPool(pool);
    const rng = createRng(seed * 7919 + 13);
    return (u) => {
      const { aggregate, decision } = mixTailorWithDecision(u, { pool: members, rng });
      draws[decision.member] = (draws[decision.member] ?? 0) + 1;
      const mu = mean(u.slice(0, u.length - byzantine));
      let dot = 0;
      for (let k = 0; k < mu.length; k++) dot += aggregate[k] * mu[k];
      if (dot < 0) reversed[decision.member] = (reversed[decision.member] ?? 0) + 1;
      return aggregate;
    };
  }
  throw new Error(`unknown aggregator ${name}`);
}

/** The data, oracles and evaluator one process needs (built once, shared by its runs). */
export function prepare({ seed, testSize, honest = HONEST, perWorker }) {
  const split = splitMnist({ seed, workers: honest, testSize });
  const shards = perWorker
    ? split.shards.map((s) => ({ features: s.features.subarray(0, perWorker * 784), labels: s.labels.subarray(0, perWorker) }))
    : split.shards;
  return {
    workers: shards.map((s) => mlpOracle(s, SHAPE)),
    evaluate: mlpEvaluator(split.test, SHAPE),
    init: initMlp(SHAPE, createRng(seed)),
    perWorker: perWorker ?? split.perWorker,
    total: split.total,
  };
}

/**
 * One cell: `aggregator` under `attack` (the omniscient cell: the mean of the honest messages, no
 * Byzantine message at all; `attack: 'none'`: no Byzantine message, the rule declares f = 0). Same seed in every cell: same split, initial model and mini-batches
 * until the trajectories part. `onStep(step)` after every step.
 */
export function runOne(
  prepared,
  { attack, aggregator, steps, evalEvery, seed, lr, batchSize = 50, f = BYZANTINE, norms = DEFAULT_NORMS },
  onStep,
) {
  const omniscient = aggregator === 'omniscient';
  // Without an attack the Byzantine workers send nothing and the rules declare f = 0, as the seed
  // code's no-attack runs do (world size 10, num-byz 0); Bulyan could not run otherwise (n ≥ 4f+3).
  const quiet = omniscient || attack === 'none';
  const declared = quiet ? 0 : f;
  const pool = mixTailorPool(declared, { norms });
  const draws = {};
  const reversed = {};
  const chosen = {};
  const started = performance.now();
  const result = trainRobust({
    workers: prepared.workers,
    byzantineCount: quiet ? 0 : f,
    attack: quiet ? null : makeAttack(attack, { f, pool, seed, chosen }),
    aggregator: makeAggregator(aggregator, { f: declared, byzantine: quiet ? 0 : f, pool, seed, draws, reversed }),
    estimator: (w, { rng }) => minibatch(w, { batchSize, rng }),
    lr,
    steps,
    init: prepared.init,
    evaluate: prepared.evaluate,
    evalEvery,
    seed,
    onProgress: ({ step }) => onStep?.(step),
  });
  const last = result.path.accuracy.length - 1;
  return {
    attack: omniscient ? 'none' : attack,
    aggregator,
    accuracy: result.path.accuracy[last],
    loss: result.path.loss[last],
    path: result.path,
    stepsDone: result.stepsDone,
    diverged: result.diverged,
    draws,
    reversed,
    chosen,
    seconds: (performance.now() - started) / 1000,
  };
}

// How a Flower-style strategy maps onto robust-agg. Flower (Beutel et al. 2020) drives federated
// training through a Strategy object: configure_fit picks the clients of a round and their
// instructions, aggregate_fit combines their results — (parameters, num_examples) pairs — into the
// new global model, and the strategy keeps whatever state it needs between rounds. Here:
//   - the rule is chosen by name from a config (createAggregator validates it once, at start);
//   - each round is a robust-agg round: results are added as they come, weighted by num_examples
//     when the rule has a weighted form (FedAvg's weighting), and closed off the event loop;
//   - per-round state (FoolsGold's history, clippedClustering's norm history, FLDetector's state)
//     is taken from each round's result and passed to the next — the strategy owns it, the rules
//     stay pure functions.
//
//   npm run build && node examples/server/flower-strategy.mjs              # 5 rounds of FoolsGold vs sybils
//   node examples/server/flower-strategy.mjs --rule mean --rounds 3         # FedAvg, weighted by num_examples
import { pathToFileURL } from 'node:url';

/** Options a rule takes from the previous round's result, by result field. */
const CARRIED = { history: 'history', normHistory: 'normHistory', state: 'state' };

export class RobustStrategy {
  /**
   * @param lib - the robust-agg module.
   * @param config - `{ rule, options, fractionFit, minFitClients, learningRate }`, e.g. from JSON.
   */
  constructor(lib, config) {
    this.lib = lib;
    this.aggregator = lib.createAggregator(config.rule, config.options ?? {}); // throws on a typo, at start
    this.fractionFit = config.fractionFit ?? 1;
    this.minFitClients = config.minFitClients ?? 2;
    this.learningRate = config.learningRate ?? 1;
    this.carried = {}; // per-round state of stateful rules
    this.log = [];
  }

  /** Flower's configure_fit: the clients that train this round and their instructions. */
  configureFit(serverRound, parameters, clients) {
    const k = Math.max(this.minFitClients, Math.ceil(this.fractionFit * clients.length));
    // A deterministic rotation, so that every client is sampled over the rounds.
    const chosen = Array.from({ length: Math.min(k, clients.length) }, (_, i) => clients[(serverRound * k + i) % clients.length]);
    return chosen.map((cid) => ({ cid, config: { serverRound, epochs: 1 } }));
  }

  /**
   * Flower's aggregate_fit: `results` are `{ cid, parameters: Float32Array (an update), numExamples }`.
   * Returns the new global parameters and the round's metrics.
   */
  async aggregateFit(serverRound, globalParameters, results) {
    const info = this.aggregator.info;
    const round = this.lib.createRound({ rule: this.aggregator, options: this.carried, d: globalParameters.length, expected: results.length });
    // In a server these arrive over the network one at a time; each add is checked and copied once.
    await Promise.all(results.map((r) => round.add(r.cid, r.parameters, info.weights ? { weight: r.numExamples } : undefined)));
    const result = await round.close();
    for (const [field, option] of Object.entries(CARRIED)) {
      if (result[field] !== undefined && option in info.options) this.carried = { ...this.carried, [option]: result[field] };
    }
    const next = Float32Array.from(globalParameters, (w, j) => w + this.learningRate * result.aggregate[j]);
    const weights = Object.fromEntries([...result.decision.byClient].map(([cid, o]) => [cid, o.weight ?? null]));
    const metrics = { serverRound, dropped: result.decision.dropped, selected: result.decision.selected ?? null, weights };
    this.log.push(metrics);
    return { parameters: next, metrics, aggregate: result.aggregate, decision: result.decision };
  }
}

/** Simulated clients: honest ones pull the model towards `target`; sybils all push the same poisoned direction. */
export function simulateFit(cid, globalParameters, { sybils, examples }) {
  const d = globalParameters.length;
  const i = Number(cid.slice(1));
  const update = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    const target = Math.sin(j * 0.3);
    update[j] = sybils.has(cid)
      ? 0.5 * Math.cos(j * 0.7) // the sybils' shared poisoned direction
      : 0.5 * (target - globalParameters[j]) + 0.05 * Math.sin(i * 7.7 + j * 1.3);
  }
  return { cid, parameters: update, numExamples: examples(i) };
}

/** Runs `rounds` rounds of the strategy over `clients` clients; returns the per-round metrics and the final model. */
export async function runFederation(lib, { rule, options, rounds, clients, sybilCount, d }) {
  const strategy = new RobustStrategy(lib, { rule, options, fractionFit: 1, minFitClients: clients });
  const cids = Array.from({ length: clients }, (_, i) => `c${i}`);
  const sybils = new Set(cids.slice(0, sybilCount));
  let parameters = new Float32Array(d);
  const history = [];
  for (let r = 1; r <= rounds; r++) {
    const instructions = strategy.configureFit(r, parameters, cids);
    const results = instructions.map(({ cid }) => simulateFit(cid, parameters, { sybils, examples: (i) => 50 + 10 * i }));
    const out = await strategy.aggregateFit(r, parameters, results);
    parameters = out.parameters;
    history.push({ ...out.metrics, results, aggregate: out.aggregate });
  }
  return { parameters, history, strategy };
}

function parseArgs(argv) {
  const args = { rule: 'foolsGold', rounds: 5, clients: 10, sybils: 3, d: 1000 };
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k].replace(/^--/, '');
    if (!(key in args)) throw new Error(`unknown flag ${argv[k]}`);
    args[key] = key === 'rule' ? argv[k + 1] : Number(argv[k + 1]);
  }
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2));
  const lib = await import('../../dist/index.js');
  const { history } = await runFederation(lib, { rule: args.rule, options: {}, rounds: args.rounds, clients: args.clients, sybilCount: args.sybils, d: args.d });
  for (const h of history) {
    const sybilWeight = Object.entries(h.weights)
      .filter(([cid]) => Number(cid.slice(1)) < args.sybils)
      .reduce((s, [, w]) => s + (w ?? 0), 0);
    console.log(`round ${h.serverRound}: total weight of the ${args.sybils} sybils ${sybilWeight.toFixed(3)}`);
  }
  lib.closeAggregationWorkers();
}

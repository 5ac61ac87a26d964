// The "lp" kernels module: the fast kernels of the rules outside the Gram family — pairwise ℓp
// statistics (p = 1, ∞ and integer p) of a block of rows in float64 for krumLp and MixTailor
// (src/kernels/lp-distances.ts), FLTrust's float64 inner products and norms (dotNorm) and
// signMajority's vote counts (signAdd). Only those rules load it, so no other rule's bundle
// carries it.
export { lpOne, lpScaled, dotNorm, signAdd } from '../lp';

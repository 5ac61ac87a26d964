// The "lp" kernels module: pairwise ℓp statistics (p = 1, ∞ and integer p) of a block of rows in
// float64 (src/kernels/lp-distances.ts), for krumLp and MixTailor. Only those rules load it, so no
// other rule's bundle carries it.
export { lpOne, lpScaled } from '../lp';

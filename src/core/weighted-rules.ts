/**
 * The rules that take client weights (option `weights`, e.g. local sample counts), in the order
 * the docs list them. Every other rule rejects `weights` with `UNKNOWN_OPTION` and a message
 * saying that it has no weighted form (see `readOptions`). Internal: the registry and the docs
 * read it; not exported from the package.
 *
 * @internal
 */
export const WEIGHTED_RULES: readonly string[] = Object.freeze([
  'mean',
  'geometricMedian',
  'coordinateMedian',
  'trimmedMean',
  'centeredClipping',
  'flame',
  'multiKrum',
  'crfl',
  'normClippingDp',
]);

/**
 * The message of the error a rule without a weighted form throws when given `weights`: names the
 * rule and the rules that take weights.
 *
 * @internal
 */
export function noWeightedFormMessage(rule: string): string {
  return (
    `${rule}: option 'weights' is not accepted: ${rule} has no weighted form ` +
    `(client weights are taken by ${WEIGHTED_RULES.join(', ')})`
  );
}

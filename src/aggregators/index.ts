export { mean, meanWithDecision, type MeanDecision, type MeanOptions } from './mean.js';
export {
  coordinateMedian,
  coordinateMedianWithDecision,
  type CoordinateMedianDecision,
  type CoordinateMedianOptions,
} from './coordinate-median.js';
export {
  trimmedMean,
  trimmedMeanWithDecision,
  type TrimmedMeanDecision,
  type TrimmedMeanOptions,
} from './trimmed-mean.js';
export { meamed, meamedWithDecision, type MeamedOptions } from './meamed.js';
export {
  geometricMedian,
  geometricMedianWithDecision,
  type GeometricMedianDecision,
  type GeometricMedianOptions,
} from './geometric-median.js';
export { krum, krumWithDecision, type KrumDecision, type KrumOptions } from './krum.js';
export { multiKrum, multiKrumWithDecision, type MultiKrumDecision, type MultiKrumOptions } from './multi-krum.js';
export { bulyan, bulyanWithDecision, type BulyanDecision, type BulyanOptions } from './bulyan.js';
export {
  centeredClipping,
  centeredClippingWithDecision,
  type CenteredClippingDecision,
  type CenteredClippingOptions,
} from './centered-clipping.js';
export { signMajority, signMajorityWithDecision, type SignMajorityDecision, type SignMajorityOptions } from './sign-majority.js';
export { fltrust, fltrustWithDecision, type FltrustDecision, type FltrustOptions } from './fltrust.js';
export {
  mda,
  mdaWithDecision,
  MDA_DEFAULT_MAX_SUBSETS,
  MDA_MAX_SUBSETS_LIMIT,
  type MdaDecision,
  type MdaOptions,
} from './mda.js';
export { monna, monnaWithDecision, type MonnaDecision, type MonnaOptions } from './monna.js';
export { flame, flameWithDecision, type FlameDecision, type FlameOptions } from './flame.js';
export {
  FOOLS_GOLD_MAX_HISTORY,
  foolsGold,
  foolsGoldWithDecision,
  type FoolsGoldAggregation,
  type FoolsGoldClientId,
  type FoolsGoldDecision,
  type FoolsGoldHistory,
  type FoolsGoldOptions,
} from './fools-gold.js';
export { DNC_MAX_ITERATIONS, dnc, dncWithDecision, type DncDecision, type DncOptions } from './dnc.js';
export { caf, cafWithDecision, type CafDecision, type CafOptions } from './caf.js';
export {
  signGuard,
  signGuardWithDecision,
  type SignGuardClustering,
  type SignGuardDecision,
  type SignGuardOptions,
} from './sign-guard.js';
export {
  CLIPPED_CLUSTERING_MAX_HISTORY,
  clippedClustering,
  clippedClusteringWithDecision,
  type ClippedClusteringAggregation,
  type ClippedClusteringDecision,
  type ClippedClusteringOptions,
} from './clipped-clustering.js';
export { krumLp, krumLpWithDecision, type KrumLpDecision, type KrumLpOptions } from './krum-lp.js';
export {
  bulyanVariant,
  bulyanVariantWithDecision,
  type BulyanAggregationRule,
  type BulyanSelectionRule,
  type BulyanVariantDecision,
  type BulyanVariantOptions,
} from './bulyan-variants.js';
export {
  mixTailor,
  mixTailorWithDecision,
  mixTailorPool,
  resolveMixTailorPool,
  type MixTailorDecision,
  type MixTailorFamily,
  type MixTailorMember,
  type MixTailorOptions,
  type MixTailorPoolOptions,
  type ResolvedMixTailorPool,
} from './mix-tailor.js';
export {
  smea,
  smeaWithDecision,
  SMEA_DEFAULT_MAX_SUBSETS,
  SMEA_MAX_SUBSETS_LIMIT,
  SMEA_MAX_WORK,
  type SmeaDecision,
  type SmeaOptions,
} from './smea.js';
export {
  FL_DETECTOR_MAX_WINDOW,
  flDetector,
  flDetectorStateFromJSON,
  flDetectorStateToJSON,
  flDetectorWithDecision,
  type FlDetectorAggregation,
  type FlDetectorDecision,
  type FlDetectorOptions,
  type FlDetectorState,
  type FlDetectorStateJSON,
} from './fl-detector.js';
export {
  lasa,
  lasaWithDecision,
  type LasaDecision,
  type LasaLayerDecision,
  type LasaOptions,
  type LasaZScore,
} from './lasa.js';
export {
  CRFL_MAX_SCALE,
  crfl,
  crflCertifiedRadius,
  crflWithDecision,
  type CrflCertificateOptions,
  type CrflDecision,
  type CrflOptions,
  type CrflRound,
} from './crfl.js';
export { auror, aurorWithDecision, type AurorDecision, type AurorFeatureRange, type AurorOptions } from './auror.js';
export {
  NORM_CLIPPING_DP_MAX_SCALE,
  normClippingDp,
  normClippingDpWithDecision,
  type NormClippingDpDecision,
  type NormClippingDpOptions,
} from './norm-clipping-dp.js';

/**
 * src/ml: pure algorithms over typed arrays (no database, API or logger). The LSTM autoencoder lives in
 * ./lstm/index.js so that importing this barrel does not load TensorFlow.js.
 */
export { MlError, isMlError, type MlErrorCode } from './errors.js';
export { matrix, fromRows, takeRows, takeInt32, column, type Matrix } from './matrix.js';
export { Rng } from './random.js';
export {
  assertMatrix,
  assertColumns,
  assertWeights,
  validateClassification,
  type EncodedLabels,
} from './validate.js';
export {
  MODEL_FORMAT,
  canonicalJson,
  makeEnvelope,
  modelChecksum,
  openEnvelope,
  sha256Hex,
  verifyChecksum,
  withChecksum,
  type ModelEnvelope,
} from './serialize.js';
export {
  assertFeatureSetMatches,
  checkRanges,
  extractMatrix,
  featureNamesHash,
  featureSetSignature,
  type FeatureSet,
  type FeatureSetSignature,
  type FeatureSpec,
  type RangeViolation,
} from './features/feature-set.js';
export { fitBinEdges, binOf, MAX_BINS, type BinEdges } from './binning.js';
export { buildCart, type CartInput, type CartParams, type CartResult } from './tree/cart.js';
export { treeDepth, type FlatTree } from './tree/flat-tree.js';
export {
  RANDOM_FOREST_ALGORITHM,
  RandomForestClassifier,
  resolveMaxFeatures,
  type ClassWeight,
  type MaxFeatures,
  type RandomForestFitOptions,
  type RandomForestOptions,
  type RandomForestParams,
} from './random-forest.js';
export {
  ISOLATION_FOREST_ALGORITHM,
  IsolationForest,
  averagePathLength,
  type IsolationForestOptions,
  type IsolationForestParams,
} from './isolation-forest.js';
export {
  GRADIENT_BOOSTING_ALGORITHM,
  GradientBoostingClassifier,
  type GradientBoostingFitOptions,
  type GradientBoostingOptions,
  type GradientBoostingParams,
  type ImportanceType,
} from './gradient-boosting.js';
export {
  accuracy,
  classificationReport,
  confusionMatrix,
  macroF1,
  psi,
  quantileSorted,
  rocAuc,
  type ClassMetrics,
  type ClassificationReport,
  type ConfusionMatrix,
  type PsiResult,
} from './eval/metrics.js';
export {
  groupKFold,
  groupShuffleSplit,
  kFold,
  stratifiedGroupKFold,
  stratifiedKFold,
  stratifiedSplit,
  type GroupLabels,
  type Split,
} from './eval/split.js';
export { crossValidate, type CrossValidationResult, type FoldResult, type Predictor } from './eval/cv.js';

/**
 * The I/O side of src/ml: the model registry (ml_models + artifacts under DATA_DIR/models), trainers per
 * task, serving with A/B splits (src/ml/ab) and monitoring (src/ml/monitor). The pure algorithms stay in
 * src/ml and never import from here.
 */
export * from './registry.js';
export * from './loaders.js';
export * from './trainers.js';
export { anomalyTrainer, MIN_ANOMALY_WINDOWS } from './anomaly-trainer.js';
export { modelServices, type ModelServices } from './services.js';

/**
 * LSTM autoencoder entry point. Kept out of the main src/ml barrel so importing the tree models does not
 * load TensorFlow.js.
 */
export { initTfBackend, wasmDir, type BackendInfo, type TfBackendName } from './backend.js';
export {
  LSTM_AUTOENCODER_ALGORITHM,
  LstmAutoencoder,
  type LstmAutoencoderData,
  type LstmAutoencoderOptions,
  type LstmAutoencoderParams,
  type LstmFitReport,
  type SequenceSet,
} from './autoencoder.js';

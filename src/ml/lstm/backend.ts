/**
 * TensorFlow.js backend selection for the LSTM: the WASM backend (its .wasm files are loaded from the
 * installed package directory, never downloaded), falling back to the pure-JS 'cpu' backend. The result
 * says which one runs; callers should report it.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
import { MlError } from '../errors.js';

export type TfBackendName = 'wasm' | 'cpu';

export interface BackendInfo {
  readonly backend: TfBackendName;
  /** Why WASM was not used, when it was not. */
  readonly fallbackReason?: string;
}

let current: Promise<BackendInfo> | null = null;

/** Directory holding tfjs-backend-wasm's .wasm files (with a trailing separator). */
export function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return (
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep
  );
}

async function select(preferred: TfBackendName): Promise<BackendInfo> {
  let reason: string | undefined;
  if (preferred === 'wasm') {
    try {
      setWasmPaths(wasmDir());
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return { backend: 'wasm' };
      }
      reason = 'tf.setBackend("wasm") returned false';
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
  }
  try {
    if (await tf.setBackend('cpu')) {
      await tf.ready();
      return reason === undefined ? { backend: 'cpu' } : { backend: 'cpu', fallbackReason: reason };
    }
  } catch (e) {
    reason = `${reason ?? ''}; cpu: ${e instanceof Error ? e.message : String(e)}`;
  }
  throw new MlError(
    'ML_BACKEND_UNAVAILABLE',
    `no TensorFlow.js backend could start (${reason ?? 'unknown'})`,
  );
}

/**
 * Initialises the process-wide TensorFlow.js backend once (WASM preferred) and returns which one runs.
 * Later calls return the first result.
 */
export function initTfBackend(preferred: TfBackendName = 'wasm'): Promise<BackendInfo> {
  if (!current) {
    current = select(preferred).catch((e: unknown) => {
      current = null;
      throw e;
    });
  }
  return current;
}

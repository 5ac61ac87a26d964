// TF.js backend set-up shared by the backdoor examples.
//
// The wasm backend runs convolutions through XNNPACK and is far faster than tfjs-backend-cpu in
// Node (whose convolution gradients are naive loops: ~12 s for one 64-image batch of a 16→32
// channel 3×3 layer on this machine, against ~0.2 s for a whole training step on wasm). But
// @tensorflow/tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so a Conv2D model cannot
// be trained on it out of the box: registerWasmConvGradients() from robust-agg/defenses adds one (and
// faster Conv2DBackpropInput and Tile kernels).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from '../../dist/defenses/index.js';

/**
 * Selects the TF.js backend: 'wasm' (default) or 'cpu' (`TFJS_BACKEND=cpu` in the environment).
 * Returns the name of the backend in use.
 */
export async function setupBackend(name = process.env.TFJS_BACKEND ?? 'wasm') {
  if (name === 'wasm') registerWasmConvGradients();
  await tf.setBackend(name);
  await tf.ready();
  return tf.getBackend();
}

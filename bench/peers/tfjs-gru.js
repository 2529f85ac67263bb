/**
 * The TensorFlow.js peer of the benchmark (bench/run.ts loads this file dynamically; it is plain JavaScript
 * so that the main build never needs tfjs). Backend: @tensorflow/tfjs-backend-wasm (SIMD where the engine
 * has it; tfjs disables wasm threads under Node, see WASM_HAS_MULTITHREAD_SUPPORT in its flags_wasm.js).
 *
 * Model: tf.sequential([tf.layers.gru({units: H, inputShape: [T, I], recurrentActivation: 'sigmoid'}),
 * tf.layers.dense({units: C, activation: 'softmax'})]), loss sparse categorical cross-entropy, tf.train.adam.
 * Timed: one `model.trainOnBatch(x, y)` (forward + backward + Adam update; it awaits the loss, so the work is done).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tf = null;
let wasm = null;

/** Load tfjs and switch to the wasm backend; returns what the backend reports about itself. */
export async function init() {
  if (!tf) {
    tf = require('@tensorflow/tfjs');
    wasm = require('@tensorflow/tfjs-backend-wasm');
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('tfjs: the wasm backend did not initialise');
  await tf.ready();
  return {
    backend: tf.getBackend(),
    tfjs: tf.version.tfjs,
    wasmBackend: wasm.version_wasm,
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
    multithread: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    threads: typeof wasm.getThreadsCount === 'function' ? wasm.getThreadsCount() : 1,
  };
}

/**
 * A GRU classifier of the given shape on one batch. x: Float32Array [batch, steps, inputSize], y: Int32Array [batch].
 * Returns { step(): Promise<number> (ms of one trainOnBatch), params, dispose() }.
 */
export function gruTrainer({ steps, inputSize, hidden, classes, batch, x, y, lr = 1e-3 }) {
  if (!tf) throw new Error('call init() first');
  const model = tf.sequential();
  // Glorot for the recurrent matrix too: tfjs's default orthogonal initialiser is slow on large matrices and
  // the initial values do not change the time of a step.
  model.add(
    tf.layers.gru({ units: hidden, inputShape: [steps, inputSize], recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }),
  );
  model.add(tf.layers.dense({ units: classes, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(lr), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor3d(x, [batch, steps, inputSize], 'float32');
  const ys = tf.tensor1d(Float32Array.from(y), 'float32');
  return {
    params: model.countParams(),
    async step() {
      const t0 = performance.now();
      await model.trainOnBatch(xs, ys);
      return performance.now() - t0;
    },
    dispose() {
      xs.dispose();
      ys.dispose();
      model.dispose();
    },
  };
}

/** Dense float32 matrix–vector product rate of the wasm backend: [1 × rows]·[rows × cols], GMAC/s per run. */
export async function matvecRate(rows, cols, reps, inner = 20) {
  if (!tf) throw new Error('call init() first');
  const w = tf.randomUniform([rows, cols], -1, 1, 'float32');
  const v = tf.randomUniform([1, rows], -1, 1, 'float32');
  const once = () => tf.tidy(() => tf.matMul(v, w)).dataSync();
  for (let i = 0; i < 3; i++) once();
  const rates = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) once();
    const ms = performance.now() - t0;
    rates.push((rows * cols * inner) / (ms * 1e6));
  }
  w.dispose();
  v.dispose();
  return rates;
}

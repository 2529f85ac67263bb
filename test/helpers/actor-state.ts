/** Per-actor tensors (parameters, optimiser state) gathered into the native layout, for comparisons with the reference. */
import { layerInputSize } from '../../model/config.js';
import { initParams, scatterGroup, zerosLike, type Params } from '../../model/params.js';
import type { Trainer } from '../../runtime/coordinator.js';

/**
 * `perActor[id]` lists an actor's tensors in the order of its parameters (kernel, recurrent kernel, bias,
 * recurrent bias, thresholds, then for the last layer its readout columns and its copy of the readout bias),
 * the order its optimiser state follows. The readout bias comes from the layer's first actor.
 */
export function gatherActorTensors(trainer: Trainer, perActor: Float32Array[][]): Params<Float64Array> {
  const model = trainer.options.model;
  const top = trainer.topology;
  const out = zerosLike(initParams(model));
  const H = model.hidden[model.hidden.length - 1]!;
  for (const a of top.actors) {
    const [kernel, recurrentKernel, bias, recurrentBias, thr, readoutWeight, readoutBias] = perActor[a.id]!;
    const group = { kernel: kernel!, recurrentKernel: recurrentKernel!, bias: bias!, recurrentBias: recurrentBias!, thr: thr! };
    scatterGroup({ ...group, unitStart: a.unitStart, units: a.units, inputSize: layerInputSize(model, a.layer), layerSize: model.hidden[a.layer]! }, out.layers[a.layer]!);
    if (a.layer !== top.depth - 1) continue;
    for (let c = 0; c < model.classes; c++)
      for (let j = 0; j < a.units; j++) out.readout.weight[c * H + a.unitStart + j] = readoutWeight![c * a.units + j]!;
    if (a.rank === 0) out.readout.bias.set(readoutBias!);
  }
  return out;
}

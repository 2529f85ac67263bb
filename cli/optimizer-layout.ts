/**
 * The optimiser state of a run in the EvNN native layout (paramShapes order), as checkpoints store it: each actor
 * keeps the moments of its own slice of the parameters, so they are gathered into native-layout tensors to save and
 * split again on resume, for any actor count.
 */
import type { ModelConfig } from '../model/config.js';
import { layerInputSize } from '../model/config.js';
import type { OptimizerState } from '../model/optim.js';
import { paramList, paramShapes, scatterGroup, sliceGroup, type Params } from '../model/params.js';
import type { Trainer } from '../runtime/coordinator.js';

function zeroParams(model: ModelConfig): Params<Float32Array> {
  const t = paramShapes(model).map((s) => new Float32Array(s.shape.reduce((a, b) => a * b, 1)));
  let k = 0;
  return {
    layers: model.hidden.map(() => ({ kernel: t[k++]!, recurrentKernel: t[k++]!, bias: t[k++]!, recurrentBias: t[k++]!, thr: t[k++]! })),
    readout: { weight: t[k++]!, bias: t[k++]! },
  };
}

function paramsFromList(model: ModelConfig, list: Float32Array[]): Params<Float32Array> {
  let k = 0;
  return {
    layers: model.hidden.map(() => ({ kernel: list[k++]!, recurrentKernel: list[k++]!, bias: list[k++]!, recurrentBias: list[k++]!, thr: list[k++]! })),
    readout: { weight: list[k++]!, bias: list[k++]! },
  };
}

/** The moments of every actor (its own tensor order) assembled into native-layout tensors; [] when none are kept. */
function gatherMoments(trainer: Trainer, perActor: Float32Array[][]): Float32Array[] {
  if (perActor.every((ts) => ts.every((t) => t.length === 0))) return [];
  const model = trainer.options.model;
  const out = zeroParams(model);
  const last = model.hidden.length - 1;
  const H = model.hidden[last]!;
  for (const a of trainer.topology.actors) {
    const t = perActor[a.id]!;
    scatterGroup(
      {
        unitStart: a.unitStart,
        units: a.units,
        inputSize: layerInputSize(model, a.layer),
        layerSize: model.hidden[a.layer]!,
        kernel: t[0]!,
        recurrentKernel: t[1]!,
        bias: t[2]!,
        recurrentBias: t[3]!,
        thr: t[4]!,
      },
      out.layers[a.layer]!,
    );
    if (a.layer === last) {
      const w = t[5]!;
      for (let c = 0; c < model.classes; c++) for (let j = 0; j < a.units; j++) out.readout.weight[c * H + a.unitStart + j] = w[c * a.units + j]!;
      if (a.rank === 0) out.readout.bias.set(t[6]!);
    }
  }
  return paramList(out);
}

function splitMoments(trainer: Trainer, global: Float32Array[]): Float32Array[][] {
  const model = trainer.options.model;
  const last = model.hidden.length - 1;
  const H = model.hidden[last]!;
  const p = global.length ? paramsFromList(model, global) : null;
  return trainer.topology.actors.map((a) => {
    const count = a.layer === last ? 7 : 5;
    if (!p) return Array.from({ length: count }, () => new Float32Array(0));
    const g = sliceGroup(p.layers[a.layer]!, layerInputSize(model, a.layer), model.hidden[a.layer]!, a.unitStart, a.units);
    const t = [g.kernel, g.recurrentKernel, g.bias, g.recurrentBias, g.thr];
    if (a.layer === last) {
      const w = new Float32Array(model.classes * a.units);
      for (let c = 0; c < model.classes; c++) for (let j = 0; j < a.units; j++) w[c * a.units + j] = p.readout.weight[c * H + a.unitStart + j]!;
      t.push(w, Float32Array.from(p.readout.bias));
    }
    return t;
  });
}

export interface StoredOptimizer {
  kind: string;
  step: number;
  m: Float32Array[];
  v: Float32Array[];
  [extra: string]: unknown;
}

export async function getOptimizer(trainer: Trainer, kind: string): Promise<StoredOptimizer> {
  const states = await trainer.getOptimizerState();
  return {
    kind,
    step: states[0]!.step,
    m: gatherMoments(trainer, states.map((s) => s.m)),
    v: gatherMoments(trainer, states.map((s) => s.v)),
  };
}

export async function setOptimizer(trainer: Trainer, st: { step: number; m: Float32Array[]; v: Float32Array[] }): Promise<void> {
  const m = splitMoments(trainer, st.m);
  const v = splitMoments(trainer, st.v);
  const states: OptimizerState[] = trainer.topology.actors.map((a) => ({ step: st.step, m: m[a.id]!, v: v[a.id]! }));
  await trainer.setOptimizerState(states);
}

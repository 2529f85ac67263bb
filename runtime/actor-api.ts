/** The control-plane calls an actor answers, shared by the inline and the threads transports. */
import type { ActorCore } from './actor.js';
import type { OptimizerState } from '../model/optim.js';
import type { ActorUnitEvents } from './unit-events.js';

export interface ActorParams {
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
  recurrentBias: Float32Array;
  thr: Float32Array;
  readoutWeight?: Float32Array;
  readoutBias?: Float32Array;
}

export function actorApi(actor: ActorCore) {
  return {
    getParams(): ActorParams {
      const p = actor.kernel.params;
      const out: ActorParams = {
        kernel: p.kernel.slice(),
        recurrentKernel: p.recurrentKernel.slice(),
        bias: p.bias.slice(),
        recurrentBias: p.recurrentBias.slice(),
        thr: p.thr.slice(),
      };
      if (actor.shard) {
        out.readoutWeight = actor.shard.weight.slice();
        out.readoutBias = actor.readoutBias!.slice();
      }
      return out;
    },
    setParams(src: ActorParams): void {
      const p = actor.kernel.params;
      p.kernel.set(src.kernel);
      p.recurrentKernel.set(src.recurrentKernel);
      p.bias.set(src.bias);
      p.recurrentBias.set(src.recurrentBias);
      p.thr.set(src.thr);
      if (actor.shard && src.readoutWeight && src.readoutBias) {
        actor.shard.weight.set(src.readoutWeight);
        actor.readoutBias!.set(src.readoutBias);
      }
    },
    optimizerState(): OptimizerState {
      return actor.optimizerState();
    },
    loadOptimizerState(s: OptimizerState): void {
      actor.loadOptimizerState(s);
    },
    carriedState(kind: 'train' | 'eval'): Float32Array {
      return actor.carriedState(kind);
    },
    loadCarriedState(kind: 'train' | 'eval', state: Float32Array): void {
      actor.loadCarriedState(kind, state);
    },
    setLearningRate(lr: number): void {
      actor.optimizer.setLearningRate(lr);
    },
    resetCounters(): void {
      actor.resetCounters();
    },
    /** Training events per own unit so far (runtime/unit-events.ts); a control call, not one per step. */
    unitEvents(): ActorUnitEvents {
      const k = actor.kernel;
      return { unitStart: actor.info.unitStart, counts: k.unitEvents.slice(), steps: k.unitEventSteps };
    },
    takeTrace() {
      return actor.takeTrace();
    },
    logits(): Float32Array {
      return actor.logits().slice();
    },
    ping(): number {
      return actor.info.id;
    },
  };
}
export type ActorApi = ReturnType<typeof actorApi>;

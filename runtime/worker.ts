/**
 * Entry point of an actor thread: builds its ActorCore over the shared fabric, serves the control plane
 * (comlink) and runs whole sequences with a spin barrier among the actors; the main thread waits for
 * the sequence, never for a step.
 */
import { availableParallelism } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ActorCore, type ActorInit } from './actor.js';
import { defaultSpins, SpinBarrier } from './barrier.js';
import { exposeOnPort } from './control.js';
import type { FabricBuffers } from './fabric.js';
import { execPhase, phaseName, runSchedule } from './schedule.js';
import { actorApi } from './actor-api.js';

const { init, fabric } = workerData as { init: ActorInit; fabric: FabricBuffers };
const actor = new ActorCore(init, fabric);
// the actors of this machine: all of them with the threads transport (actor hosts run their own share)
const barrier = new SpinBarrier(fabric.control, actor.top.size, defaultSpins(actor.top.size, availableParallelism()));

const api = {
  ...actorApi(actor),
  /** One whole sequence: forward, loss, and for training backward and update. */
  run(train: boolean, trace: boolean, steps: number): void {
    let where = 'begin';
    try {
      runSchedule(actor.top.ticks(steps), actor.forwardPhases, actor.backwardPhases, train, (phase, k, p) => {
        where = phaseName(phase, k, p);
        execPhase(actor, phase, k, p, trace);
        if (phase !== 6) barrier.wait();
      });
    } catch (e) {
      const err = e as Error;
      throw new Error(`${actor.top.describe(actor.info)} failed in ${where}: ${err.message}`);
    }
  },
};
export type WorkerApi = typeof api;

exposeOnPort(api, parentPort!);

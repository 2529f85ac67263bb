/**
 * The coordinator: spawns one actor per group of units, feeds each sequence batch into shared memory,
 * starts whole sequences (forward, loss, backward, update run under the actors' own barrier clock),
 * gathers losses, counters, parameters and traces, and supervises the actors.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { layerInputSize, validateModelConfig, type ModelConfig } from '../model/config.js';
import type { OptimizerConfig, OptimizerState } from '../model/optim.js';
import { initParams, mapParams, scatterGroup, sliceGroup, type Params } from '../model/params.js';
import { ActorCore, JOB, type ActorInit, type ActorTrace, type FaultSpec } from './actor.js';
import { actorApi, type ActorApi, type ActorParams } from './actor-api.js';
import { abortAll, CTRL } from './barrier.js';
import { withTimeout, wrapWorker, type CallArgs, type CallReply, type Remote } from './control.js';
import { allocateFabric, COUNTER_NAMES, NCOUNTERS, PAIR_FIELDS, SCALAR, type CounterName, type FabricBuffers } from './fabric.js';
import { execPhase, Phase, phaseName, runSchedule } from './schedule.js';
import { Topology } from './topology.js';
import type { WorkerApi } from './worker.js';
import { gatherUnitEvents, type LayerUnitEvents } from './unit-events.js';
import type { NatsActorApi } from './nats-actor.js';
import type { NatsConnection } from 'nats';
import { connectNats, redactNatsServers, runInboxPrefix, type NatsAuth } from './nats-connect.js';
import { HostCallError, HostedActors } from './nats-host-client.js';
import { randomKey } from './nats-seal.js';

export type TransportKind = 'inline' | 'threads' | 'nats';

export interface TrainerOptions {
  model: ModelConfig;
  /** Initial parameters (default: the seeded initialisation). */
  params?: Params;
  /** Actors per layer: one count for every layer, or per layer a count or explicit group sizes. */
  actors?: number | (number | number[])[];
  transport?: TransportKind;
  /** Batch capacity; smaller batches are padded. */
  batch: number;
  /** Longest sequence the run will see. */
  maxSteps: number;
  optimizer?: OptimizerConfig;
  /** Global-norm clipping threshold (0 = off). */
  clip?: number;
  fault?: FaultSpec;
  /** Timeout of every control-plane call, ms. */
  callTimeoutMs?: number;
  /** Timeout of one sequence, ms. */
  sequenceTimeoutMs?: number;
  /**
   * `nats` transport: server URL(s), e.g. "nats://127.0.0.1:4222", and a run id that scopes the subjects.
   * `hosts: true` runs the actors on actor hosts (`egru actor-host`, any machine reaching the server)
   * instead of worker threads of this process.
   */
  nats?: {
    servers: string;
    run?: string;
    hosts?: boolean;
    /** Shared secret of the coordinator and the actor hosts (--secret-file): seals every message to and from hosts. */
    secret?: Uint8Array;
    /** Actor hosts: heartbeat interval, ms (default 1000); a host frees an actor after 10 silent intervals. */
    heartbeatMs?: number;
    /** false: data messages without seals (only to measure what sealing costs). */
    sealData?: boolean;
  } & NatsAuth;
}

export interface SequenceBatch {
  /** [batch, steps, inputSize] row-major. */
  x: Float32Array;
  /** [batch] or [batch, steps] (per-step readout); −1 = ignore. */
  targets: Int32Array;
  batch: number;
  steps: number;
  /**
   * Truncated BPTT: start from the state the previous batch of the same kind (training or evaluation) ended in,
   * row by row, instead of zeros; gradients stop at the start of the batch (docs/math.md "Carried state").
   */
  carry?: boolean;
}

export interface StepResult {
  loss: number;
  crossEntropy: number;
  activityPenalty: number;
  correct: number;
  count: number;
}

export type CounterTotals = Record<CounterName, number>;

export interface RuntimeCounters {
  totals: CounterTotals;
  perActor: CounterTotals[];
  /** [src][dst]: forward and backward packets, items, bytes. */
  pairs: { forward: { packets: number; items: number; bytes: number }; backward: { packets: number; items: number; bytes: number } }[][];
}

/** An actor failed: the message names it, its layer and units, the step and the cause. */
export class ActorFailure extends Error {}

interface Transport {
  run(train: boolean, trace: boolean, steps: number): Promise<void>;
  /** A control call to one actor: `method`'s parameters in, its result out. */
  call<M extends keyof ActorApi>(actor: number, method: M, ...args: CallArgs<ActorApi, M>): Promise<CallReply<ActorApi, M>>;
  close(): Promise<void>;
  /** Actor threads still running (0 for inline). */
  alive(): number;
}

class InlineTransport implements Transport {
  private readonly apis: ActorApi[];
  constructor(private readonly actors: ActorCore[]) {
    this.apis = actors.map(actorApi);
  }
  async run(train: boolean, trace: boolean, steps: number): Promise<void> {
    const a0 = this.actors[0]!;
    let current = a0;
    let where = 'begin';
    try {
      runSchedule(a0.top.ticks(steps), a0.forwardPhases, a0.backwardPhases, train, (phase, k, p) => {
        where = phaseName(phase, k, p);
        for (const a of this.actors) {
          current = a;
          execPhase(a, phase, k, p, trace);
        }
      });
    } catch (e) {
      throw new ActorFailure(`${current.top.describe(current.info)} failed in ${where}: ${(e as Error).message}`);
    }
  }
  async call<M extends keyof ActorApi>(actor: number, method: M, ...args: CallArgs<ActorApi, M>): Promise<CallReply<ActorApi, M>> {
    // TypeScript cannot call through a generic key: this cast restates the method's own signature.
    const f = this.apis[actor]![method] as (...a: CallArgs<ActorApi, M>) => CallReply<ActorApi, M>;
    return f(...args);
  }
  async close(): Promise<void> {}
  alive(): number {
    return 0;
  }
}

function workerUrl(file: string): URL {
  // Node 20 cannot start a .ts worker: from sources (tests) use the compiled copy in dist/.
  return import.meta.url.endsWith('.ts') ? new URL(`../dist/runtime/${file}`, import.meta.url) : new URL(`./${file}`, import.meta.url);
}

class ThreadsTransport implements Transport {
  private readonly workers: Worker[] = [];
  /** Actor threads over the shared fabric (no `nats`)… */
  private readonly sharedActors: Remote<WorkerApi>[] = [];
  /** …or `nats` actors in threads: one of the two lists is filled. */
  private readonly natsActors: Remote<NatsActorApi>[] = [];
  /**
   * Rejects the calls in flight (guard) when an actor fails. One entry per call, removed when it settles: racing
   * every call against one run-long promise would chain a reaction on it per call, each holding the call's result
   * until the run ends (the leak of issue #17).
   */
  private readonly inFlight = new Set<(e: Error) => void>();
  private failed: Error | null = null;
  private closing = false;
  private exited = 0;

  constructor(
    private readonly top: Topology,
    inits: ActorInit[],
    private readonly fabric: FabricBuffers,
    private readonly callTimeoutMs: number,
    private readonly sequenceTimeoutMs: number,
    private readonly nats?: { servers: string; run: string; auth: NatsAuth; key?: Uint8Array },
  ) {
    const url = workerUrl(nats ? 'nats-worker.js' : 'worker.js');
    for (const init of inits) {
      const workerData = nats
        ? { init, servers: nats.servers, auth: nats.auth, run: nats.run, batch: fabric.batch, maxSteps: fabric.maxSteps, key: nats.key }
        : { init, fabric };
      const w = new Worker(fileURLToPath(url), { workerData, env: { ...process.env, EGRU_ACTOR_THREAD: '1' } });
      const who = top.describe(top.actors[init.id]!);
      w.on('error', (e) => this.fail(new ActorFailure(`${who} crashed: ${e.message}`)));
      w.on('exit', (code) => {
        this.exited++;
        if (!this.closing) this.fail(new ActorFailure(`${who} exited unexpectedly (code ${code})`));
      });
      this.workers.push(w);
      if (nats) this.natsActors.push(wrapWorker<NatsActorApi>(w));
      else this.sharedActors.push(wrapWorker<WorkerApi>(w));
    }
  }

  /** Every actor, for the calls both kinds of actor answer. */
  private get remotes(): Remote<ActorApi>[] {
    return this.nats ? this.natsActors : this.sharedActors;
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    abortAll(this.fabric.control);
    for (const reject of this.inFlight) reject(e);
  }

  async ready(): Promise<void> {
    await this.guard(Promise.all(this.remotes.map((r) => r.ping())), this.callTimeoutMs, 'actor start-up');
  }

  private async guard<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    if (this.failed) {
      await this.terminate();
      throw this.failed;
    }
    let reject: (e: Error) => void = () => {};
    const failure = new Promise<never>((_, r) => (reject = r));
    this.inFlight.add(reject);
    try {
      return await Promise.race([withTimeout(p, ms, what), failure]);
    } catch (e) {
      const err = this.failed ?? (e instanceof ActorFailure ? e : new ActorFailure((e as Error).message));
      if (!this.failed) {
        this.failed = err;
        abortAll(this.fabric.control);
      }
      await this.terminate();
      throw err;
    } finally {
      this.inFlight.delete(reject);
    }
  }

  async run(train: boolean, trace: boolean, steps: number): Promise<void> {
    if (!this.nats) {
      // The first rejection is the failing actor's own; the others then stop on the abort word.
      await this.guard(Promise.all(this.sharedActors.map((r) => r.run(train, trace, steps))), this.sequenceTimeoutMs, 'sequence');
      return;
    }
    // nats: every actor has a private fabric; send each its inputs, then copy its counters and scalars back.
    const f = this.fabric;
    const ctrl = new Int32Array(f.control);
    const job = [CTRL.jobKind, CTRL.jobBatch, CTRL.jobSteps, CTRL.jobStep, CTRL.jobCarry].map((i) => Atomics.load(ctrl, i));
    const B = f.batch;
    const perStep = this.top.model.readout === 'per-step';
    const x = new Float32Array(f.input, 0, B * steps * this.top.model.inputSize);
    const targets = new Int32Array(f.targets, 0, perStep ? B * steps : B);
    const actors = this.natsActors;
    await this.guard(Promise.all(actors.map((r) => r.run(train, trace, steps, x, targets, job))), this.sequenceTimeoutMs, 'sequence');
    const rows = await this.guard(Promise.all(actors.map((r) => r.rows())), this.callTimeoutMs, 'counters');
    const G = this.top.size;
    rows.forEach((r, id) => {
      new Float64Array(f.counters, 8 * id * NCOUNTERS, NCOUNTERS).set(r.counters);
      new Float64Array(f.pairCounters, 8 * id * G * PAIR_FIELDS, G * PAIR_FIELDS).set(r.pairs);
      new Float64Array(f.scalars, 8 * id * SCALAR.size, SCALAR.size).set(r.scalars);
    });
  }

  async call<M extends keyof ActorApi>(actor: number, method: M, ...args: CallArgs<ActorApi, M>): Promise<CallReply<ActorApi, M>> {
    // TypeScript cannot call through a generic key: this cast restates the method's own signature.
    const f = this.remotes[actor]![method] as (...a: CallArgs<ActorApi, M>) => Promise<CallReply<ActorApi, M>>;
    return this.guard(f(...args), this.callTimeoutMs, `${this.top.describe(this.top.actors[actor]!)}: ${method}`);
  }

  private async terminate(): Promise<void> {
    if (this.nats && !this.closing && !this.failed)
      await Promise.allSettled(this.natsActors.map((r) => withTimeout(r.shutdown(), 2000, 'shutdown')));
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    await this.terminate();
  }

  alive(): number {
    return this.workers.length - this.exited;
  }
}

/** Actors on actor hosts (runtime/nats-host.ts): control calls and data both over NATS (runtime/nats-host-client.ts). */
class NatsHostsTransport implements Transport {
  private failed: Error | null = null;
  private closed = false;

  private constructor(
    private readonly top: Topology,
    private readonly fabric: FabricBuffers,
    private readonly nc: NatsConnection,
    private readonly hosted: HostedActors,
    private readonly callTimeoutMs: number,
    private readonly sequenceTimeoutMs: number,
  ) {}

  static async create(
    top: Topology,
    inits: ActorInit[],
    fabric: FabricBuffers,
    callTimeoutMs: number,
    sequenceTimeoutMs: number,
    nats: { servers: string; run: string; auth: NatsAuth; secret?: Uint8Array; heartbeatMs?: number },
  ) {
    let nc: NatsConnection;
    try {
      nc = await connectNats({ servers: nats.servers, ...nats.auth, inboxPrefix: runInboxPrefix(nats.run) }, `egru-coordinator-${nats.run}`);
    } catch (e) {
      throw new ActorFailure(`cannot reach the NATS server ${redactNatsServers(nats.servers)}: ${(e as Error).message}`);
    }
    const hosted = new HostedActors(nc, { run: nats.run, secret: nats.secret, callTimeoutMs, heartbeatMs: nats.heartbeatMs ?? Number(process.env.EGRU_NATS_HEARTBEAT_MS ?? 1000) });
    const t = new NatsHostsTransport(top, fabric, nc, hosted, callTimeoutMs, sequenceTimeoutMs);
    try {
      // Hosts connect with their own URL and credentials: none of the coordinator's travel.
      for (const init of inits)
        await hosted.assign({ init, run: nats.run, batch: fabric.batch, maxSteps: fabric.maxSteps }, top.describe(top.actors[init.id]!)).catch((e: Error) => {
          throw new ActorFailure(e.message);
        });
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  /** A control call over NATS; a host's actor answers the actor API and also `run`, `rows` and `shutdown`. */
  async call<M extends keyof NatsActorApi>(actor: number, method: M, ...args: CallArgs<NatsActorApi, M>): Promise<CallReply<NatsActorApi, M>> {
    if (this.failed) throw this.failed;
    const who = this.top.describe(this.top.actors[actor]!);
    const timeout = method === 'run' ? this.sequenceTimeoutMs : this.callTimeoutMs;
    try {
      // The host answers with the method's own result (runtime/nats-host.ts); msgpack does not carry its type.
      return (await this.hosted.call(actor, method, args, timeout, `${who}: ${method}`)) as CallReply<NatsActorApi, M>;
    } catch (e) {
      throw e instanceof HostCallError ? new ActorFailure(e.message) : e;
    }
  }

  async run(train: boolean, trace: boolean, steps: number): Promise<void> {
    const f = this.fabric;
    const ctrl = new Int32Array(f.control);
    const job = [CTRL.jobKind, CTRL.jobBatch, CTRL.jobSteps, CTRL.jobStep, CTRL.jobCarry].map((i) => Atomics.load(ctrl, i));
    const perStep = this.top.model.readout === 'per-step';
    const x = new Float32Array(f.input, 0, f.batch * steps * this.top.model.inputSize).slice();
    const targets = new Int32Array(f.targets, 0, perStep ? f.batch * steps : f.batch).slice();
    // A host that disappears mid-sequence leaves its peers waiting: a watchdog pings every actor.
    let stop = false;
    const watchdog = (async () => {
      while (!stop) {
        await new Promise((r) => setTimeout(r, 500));
        if (stop) return;
        await Promise.all(this.top.actors.map((a) => this.call(a.id, 'ping')));
      }
    })();
    try {
      await Promise.race([Promise.all(this.top.actors.map((a) => this.call(a.id, 'run', train, trace, steps, x, targets, job))), watchdog]);
    } catch (e) {
      this.failed = e as Error;
      throw e;
    } finally {
      stop = true;
      watchdog.catch(() => {});
    }
    const G = this.top.size;
    // one round trip for all actors, not one per actor (each crosses the network twice)
    const rows = await Promise.all(this.top.actors.map((a) => this.call(a.id, 'rows')));
    for (const a of this.top.actors) {
      const r = rows[a.id]!;
      new Float64Array(f.counters, 8 * a.id * NCOUNTERS, NCOUNTERS).set(r.counters);
      new Float64Array(f.pairCounters, 8 * a.id * G * PAIR_FIELDS, G * PAIR_FIELDS).set(r.pairs);
      new Float64Array(f.scalars, 8 * a.id * SCALAR.size, SCALAR.size).set(r.scalars);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed) await Promise.allSettled(this.top.actors.map((a) => this.call(a.id, 'shutdown')));
    this.hosted.close();
    await this.nc.drain().catch(() => {});
  }

  alive(): number {
    return 0;
  }
}

export class Trainer {
  private trainSteps = 0;
  private closed = false;
  private readonly ctrl: Int32Array;
  private readonly x: Float32Array;
  private readonly targets: Int32Array;

  private constructor(
    readonly options: Required<Pick<TrainerOptions, 'batch' | 'maxSteps' | 'transport'>> & TrainerOptions,
    readonly topology: Topology,
    private readonly fabric: FabricBuffers,
    private readonly transport: Transport,
  ) {
    this.ctrl = new Int32Array(fabric.control);
    this.x = new Float32Array(fabric.input);
    this.targets = new Int32Array(fabric.targets);
  }

  static async create(options: TrainerOptions): Promise<Trainer> {
    const model = options.model;
    validateModelConfig(model);
    if (!(Number.isInteger(options.batch) && options.batch > 0)) throw new Error(`batch must be a positive integer, got ${options.batch}`);
    if (!(Number.isInteger(options.maxSteps) && options.maxSteps > 0)) throw new Error(`maxSteps must be a positive integer, got ${options.maxSteps}`);
    const transport = options.transport ?? 'threads';
    if (transport !== 'inline' && transport !== 'threads' && transport !== 'nats')
      throw new Error(`unknown transport "${String(transport)}" (inline, threads, nats)`);
    if (transport === 'nats' && !options.nats?.servers) throw new Error('the nats transport needs a server URL (nats.servers)');
    const top = new Topology(model, options.actors ?? 1);
    const params = options.params ?? initParams(model);
    const fabric = allocateFabric(top, model, options.batch, options.maxSteps);
    const opt = options.optimizer ?? { kind: 'adam', lr: 1e-3 };
    const split = top.layers.map((l) => l.map((a) => a.units));
    const last = model.hidden.length - 1;
    const H = model.hidden[last]!;
    const inits: ActorInit[] = top.actors.map((a) => {
      const init: ActorInit = {
        model,
        split,
        id: a.id,
        params: sliceGroup(params.layers[a.layer]!, layerInputSize(model, a.layer), model.hidden[a.layer]!, a.unitStart, a.units),
        optimizer: opt,
        clip: options.clip ?? 0,
        fault: options.fault,
      };
      if (a.layer === last) {
        const w = new Float32Array(model.classes * a.units);
        for (let c = 0; c < model.classes; c++)
          for (let j = 0; j < a.units; j++) w[c * a.units + j] = params.readout.weight[c * H + a.unitStart + j]!;
        init.readoutWeight = w;
        init.readoutBias = Float32Array.from(params.readout.bias);
      }
      return init;
    });
    let t: Transport;
    if (transport === 'inline') {
      const arenas = ActorCore.sharedArenas(inits, fabric.batch, fabric.maxSteps);
      t = new InlineTransport(inits.map((init, i) => new ActorCore(init, fabric, arenas?.[i])));
    }
    else if (transport === 'nats' && options.nats?.hosts)
      t = await NatsHostsTransport.create(top, inits, fabric, options.callTimeoutMs ?? 30_000, options.sequenceTimeoutMs ?? 600_000, {
        servers: options.nats.servers,
        run: options.nats.run ?? randomRunId(),
        auth: { creds: options.nats.creds, tlsCa: options.nats.tlsCa },
        secret: options.nats.secret,
        heartbeatMs: options.nats.heartbeatMs,
      });
    else {
      const o = options.nats;
      // Actor threads get the run's data key in memory: it never crosses the server, so no one else can seal.
      const key = o?.sealData === false ? undefined : randomKey(32);
      const nats = transport === 'nats' ? { servers: o!.servers, run: o!.run ?? randomRunId(), auth: { creds: o!.creds, tlsCa: o!.tlsCa }, key } : undefined;
      const threads = new ThreadsTransport(top, inits, fabric, options.callTimeoutMs ?? 30_000, options.sequenceTimeoutMs ?? 600_000, nats);
      await threads.ready();
      t = threads;
    }
    return new Trainer({ ...options, transport }, top, fabric, t);
  }

  private load(batch: SequenceBatch, kind: number): void {
    if (this.closed) throw new Error('trainer is closed');
    const { batch: cap, maxSteps } = this.options;
    const I = this.options.model.inputSize;
    const { batch: B, steps: T } = batch;
    if (B < 1 || B > cap) throw new Error(`batch of ${B} does not fit the capacity ${cap}`);
    if (T < 1 || T > maxSteps) throw new Error(`sequence of ${T} steps exceeds the maximum ${maxSteps}`);
    if (batch.x.length !== B * T * I) throw new Error(`x has ${batch.x.length} values, expected ${B}×${T}×${I}`);
    const perStep = this.options.model.readout === 'per-step';
    if (batch.targets.length !== (perStep ? B * T : B)) throw new Error(`targets have ${batch.targets.length} values, expected ${perStep ? B * T : B}`);
    // Padded rows: zero input, ignored targets.
    this.x.set(batch.x);
    this.x.fill(0, B * T * I, cap * T * I);
    this.targets.set(batch.targets);
    this.targets.fill(-1, batch.targets.length, perStep ? cap * T : cap);
    Atomics.store(this.ctrl, CTRL.jobKind, kind);
    Atomics.store(this.ctrl, CTRL.jobBatch, B);
    Atomics.store(this.ctrl, CTRL.jobSteps, T);
    Atomics.store(this.ctrl, CTRL.jobStep, this.trainSteps);
    Atomics.store(this.ctrl, CTRL.jobCarry, batch.carry ? 1 : 0);
  }

  private result(): StepResult {
    const last = this.topology.layers[this.topology.depth - 1]![0]!;
    const s = new Float64Array(this.fabric.scalars, 8 * last.id * SCALAR.size, SCALAR.size);
    return {
      loss: s[SCALAR.loss]!,
      crossEntropy: s[SCALAR.crossEntropy]!,
      activityPenalty: s[SCALAR.penalty]!,
      correct: s[SCALAR.correct]!,
      count: s[SCALAR.count]!,
    };
  }

  private async runJob(train: boolean, trace: boolean, steps: number): Promise<void> {
    try {
      await this.transport.run(train, trace, steps);
    } catch (e) {
      this.closed = true;
      await this.transport.close();
      const stage = train ? `training step ${this.trainSteps}` : 'evaluation';
      throw new ActorFailure(`${(e as Error).message} (during ${stage})`);
    }
  }

  /** One optimiser step on a batch. */
  async train(batch: SequenceBatch): Promise<StepResult> {
    this.load(batch, JOB.train);
    await this.runJob(true, false, batch.steps);
    this.trainSteps++;
    return this.result();
  }

  /** Forward only; optionally the events of every actor (for hardware emulation and reports). */
  async evaluate(batch: SequenceBatch, opts: { trace?: boolean; logits?: boolean } = {}): Promise<StepResult & { logits?: Float32Array; trace?: ActorTrace[] }> {
    this.load(batch, JOB.eval);
    await this.runJob(false, !!opts.trace, batch.steps);
    const out: StepResult & { logits?: Float32Array; trace?: ActorTrace[] } = this.result();
    if (opts.logits) out.logits = await this.transport.call(this.topology.layers[this.topology.depth - 1]![0]!.id, 'logits');
    if (opts.trace) out.trace = await Promise.all(this.topology.actors.map((a) => this.transport.call(a.id, 'takeTrace')));
    return out;
  }

  get steps(): number {
    return this.trainSteps;
  }

  async getParams(): Promise<Params<Float32Array>> {
    const model = this.options.model;
    const out = mapParams(initShapes(model), (t) => t);
    const H = model.hidden[model.hidden.length - 1]!;
    for (const a of this.topology.actors) {
      const p: ActorParams = await this.transport.call(a.id, 'getParams');
      scatterGroup(
        { unitStart: a.unitStart, units: a.units, inputSize: layerInputSize(model, a.layer), layerSize: model.hidden[a.layer]!, ...p },
        out.layers[a.layer]!,
      );
      if (p.readoutWeight && p.readoutBias) {
        for (let c = 0; c < model.classes; c++)
          for (let j = 0; j < a.units; j++) out.readout.weight[c * H + a.unitStart + j] = p.readoutWeight[c * a.units + j]!;
        out.readout.bias.set(p.readoutBias);
      }
    }
    return out;
  }

  async setParams(params: Params): Promise<void> {
    const model = this.options.model;
    const H = model.hidden[model.hidden.length - 1]!;
    for (const a of this.topology.actors) {
      const g = sliceGroup(params.layers[a.layer]!, layerInputSize(model, a.layer), model.hidden[a.layer]!, a.unitStart, a.units);
      const p: ActorParams = { kernel: g.kernel, recurrentKernel: g.recurrentKernel, bias: g.bias, recurrentBias: g.recurrentBias, thr: g.thr };
      if (a.layer === model.hidden.length - 1) {
        p.readoutWeight = new Float32Array(model.classes * a.units);
        for (let c = 0; c < model.classes; c++)
          for (let j = 0; j < a.units; j++) p.readoutWeight[c * a.units + j] = params.readout.weight[c * H + a.unitStart + j]!;
        p.readoutBias = Float32Array.from(params.readout.bias);
      }
      await this.transport.call(a.id, 'setParams', p);
    }
  }

  /** Optimiser state per actor, in actor order (checkpoints restore it with the same split). */
  async getOptimizerState(): Promise<OptimizerState[]> {
    return Promise.all(this.topology.actors.map((a) => this.transport.call(a.id, 'optimizerState')));
  }
  async setOptimizerState(states: OptimizerState[]): Promise<void> {
    if (states.length !== this.topology.size) throw new Error(`optimizer state has ${states.length} actors, the run has ${this.topology.size}`);
    for (const a of this.topology.actors) await this.transport.call(a.id, 'loadOptimizerState', states[a.id]!);
    this.trainSteps = states[0]?.step ?? this.trainSteps;
  }

  /**
   * The state the next carrying batch of `kind` starts from, per layer [B × H] (v, or c for the paper
   * formulation, at the last step of the previous batch of that kind): for checkpoints, and to compare with the
   * reference. Independent of the split into actors.
   */
  async getCarriedState(kind: 'train' | 'eval' = 'train'): Promise<Float32Array[]> {
    const model = this.options.model;
    const B = this.options.batch;
    const out = model.hidden.map((H) => new Float32Array(B * H));
    for (const a of this.topology.actors) {
      const own = await this.transport.call(a.id, 'carriedState', kind);
      const H = model.hidden[a.layer]!;
      for (let b = 0; b < B; b++) for (let j = 0; j < a.units; j++) out[a.layer]![b * H + a.unitStart + j] = own[b * a.units + j]!;
    }
    return out;
  }
  async setCarriedState(state: readonly Float32Array[], kind: 'train' | 'eval' = 'train'): Promise<void> {
    const model = this.options.model;
    const B = this.options.batch;
    if (state.length !== model.hidden.length || state.some((s, l) => s.length !== B * model.hidden[l]!))
      throw new Error(`carried state must hold B·H values for each of the ${model.hidden.length} layers (B = ${B})`);
    for (const a of this.topology.actors) {
      const H = model.hidden[a.layer]!;
      const own = new Float32Array(B * a.units);
      for (let b = 0; b < B; b++) for (let j = 0; j < a.units; j++) own[b * a.units + j] = state[a.layer]![b * H + a.unitStart + j]!;
      await this.transport.call(a.id, 'loadCarriedState', kind, own);
    }
  }

  /** Set every actor's learning rate (for schedules); takes effect at the next training step. */
  async setLearningRate(lr: number): Promise<void> {
    if (!(lr >= 0)) throw new Error(`learning rate must be ≥ 0, got ${lr}`);
    await Promise.all(this.topology.actors.map((a) => this.transport.call(a.id, 'setLearningRate', lr)));
  }

  /** Counters (docs/figures.md) read straight from shared memory: totals, per actor and per (src, dst) pair. */
  counters(): RuntimeCounters {
    const G = this.topology.size;
    const all = new Float64Array(this.fabric.counters);
    const pc = new Float64Array(this.fabric.pairCounters);
    const perActor = this.topology.actors.map((a) => {
      const o = {} as CounterTotals;
      COUNTER_NAMES.forEach((n, i) => (o[n] = all[a.id * NCOUNTERS + i]!));
      return o;
    });
    const totals = {} as CounterTotals;
    COUNTER_NAMES.forEach((n) => (totals[n] = perActor.reduce((s, o) => s + o[n], 0)));
    const pairs = Array.from({ length: G }, (_, s) =>
      Array.from({ length: G }, (_, d) => {
        const at = (s * G + d) * PAIR_FIELDS;
        return {
          forward: { packets: pc[at]!, items: pc[at + 1]!, bytes: pc[at + 2]! },
          backward: { packets: pc[at + 3]!, items: pc[at + 4]!, bytes: pc[at + 5]! },
        };
      }),
    );
    return { totals, perActor, pairs };
  }

  /**
   * Training events per unit since the trainer started (or resetCounters), per layer in unit order, with the
   * (step, batch element) pairs they cover (runtime/unit-events.ts). One control call per actor.
   */
  async unitEvents(): Promise<LayerUnitEvents[]> {
    const replies = await Promise.all(this.topology.actors.map((a) => this.transport.call(a.id, 'unitEvents')));
    return gatherUnitEvents(this.topology, replies);
  }

  async resetCounters(): Promise<void> {
    for (const a of this.topology.actors) await this.transport.call(a.id, 'resetCounters');
    // nats actors count in private fabrics: clear the coordinator's copy too.
    new Float64Array(this.fabric.counters).fill(0);
    new Float64Array(this.fabric.pairCounters).fill(0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }

  /** Actor threads still running: 0 after close() or after a failure. */
  aliveWorkers(): number {
    return this.transport.alive();
  }
}

/** A run id for the nats transport's subjects when none is given: unlikely to meet another run's. */
export function randomRunId(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

function initShapes(model: ModelConfig): Params<Float32Array> {
  const layers = model.hidden.map((h, l) => {
    const i = layerInputSize(model, l);
    return {
      kernel: new Float32Array(i * 3 * h),
      recurrentKernel: new Float32Array(h * 3 * h),
      bias: new Float32Array(3 * h),
      recurrentBias: new Float32Array(3 * h),
      thr: new Float32Array(h),
    };
  });
  const H = model.hidden[model.hidden.length - 1]!;
  return { layers, readout: { weight: new Float32Array(model.classes * H), bias: new Float32Array(model.classes) } };
}

export { Phase };

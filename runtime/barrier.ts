/**
 * Spin-then-wait barrier over shared memory: a few µs among ≤ cores threads while spinning, falls back to
 * Atomics.wait so oversubscribed runs do not burn cores. Checks the abort word so a dead peer never
 * leaves the others waiting forever.
 */
export const CTRL = {
  barrierCount: 0,
  barrierGen: 1,
  abort: 2,
  /** Fields of the job in flight (written by the coordinator before it starts the actors). */
  jobKind: 3,
  jobBatch: 4,
  jobSteps: 5,
  jobStep: 6,
  /** 1: the job carries on from the state the previous job of its kind ended in (truncated BPTT); 0: zero state. */
  jobCarry: 7,
  size: 16,
} as const;

export class AbortedError extends Error {
  constructor() {
    super('run aborted by the coordinator');
  }
}

/**
 * Polls of the barrier word before a waiting actor sleeps (EGRU_SPINS overrides). With a core for every party,
 * waiting long costs nothing but a core that would idle: spin ~2 ms (200 000 polls), because a sleeping actor
 * wakes ~0.1 ms late on a virtual machine and is then the late one at the next barrier, so that short spins can
 * settle into a train of sleeps (a 2-actor row-MNIST step took 15–30 ms instead of 8.5 in about half the runs
 * of the benchmark). With more parties than cores a spinning actor holds the core its partner needs: ~0.2 ms.
 */
export function defaultSpins(parties: number, cores: number): number {
  const env = globalThis.process?.env?.EGRU_SPINS;
  if (env !== undefined) return Number(env);
  return parties <= cores ? 200_000 : 20_000;
}

export class SpinBarrier {
  private readonly ctrl: Int32Array;
  constructor(
    buffer: SharedArrayBuffer,
    private readonly parties: number,
    private readonly spins = defaultSpins(parties, Number.POSITIVE_INFINITY),
  ) {
    this.ctrl = new Int32Array(buffer);
  }

  wait(): void {
    const c = this.ctrl;
    const gen = Atomics.load(c, CTRL.barrierGen);
    if (Atomics.add(c, CTRL.barrierCount, 1) === this.parties - 1) {
      Atomics.store(c, CTRL.barrierCount, 0);
      Atomics.add(c, CTRL.barrierGen, 1);
      Atomics.notify(c, CTRL.barrierGen);
    } else if (!this.spin(gen)) this.sleep(gen);
    // An abort also bumps the generation: never run the next phase on a half-finished step.
    if (Atomics.load(c, CTRL.abort) !== 0) throw new AbortedError();
  }

  /** Spin until generation `gen` ends (true) or the spin budget is spent (false). */
  private spin(gen: number): boolean {
    const c = this.ctrl;
    for (let i = 0; i < this.spins; i++) {
      if (Atomics.load(c, CTRL.barrierGen) !== gen) return true;
      if (Atomics.load(c, CTRL.abort) !== 0) throw new AbortedError();
    }
    return false;
  }

  /** Sleep in Atomics.wait until generation `gen` ends. */
  private sleep(gen: number): void {
    const c = this.ctrl;
    while (Atomics.load(c, CTRL.barrierGen) === gen) {
      if (Atomics.load(c, CTRL.abort) !== 0) throw new AbortedError();
      Atomics.wait(c, CTRL.barrierGen, gen, 20);
    }
  }
}

/** Wake every waiter and make every later wait throw. */
export function abortAll(buffer: SharedArrayBuffer): void {
  const c = new Int32Array(buffer);
  Atomics.store(c, CTRL.abort, 1);
  Atomics.add(c, CTRL.barrierGen, 1);
  Atomics.notify(c, CTRL.barrierGen);
}

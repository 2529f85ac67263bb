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
  size: 16,
} as const;

export class AbortedError extends Error {
  constructor() {
    super('run aborted by the coordinator');
  }
}

export class SpinBarrier {
  private readonly ctrl: Int32Array;
  constructor(
    buffer: SharedArrayBuffer,
    private readonly parties: number,
    private readonly spins = Number(globalThis.process?.env?.EGRU_SPINS ?? 20_000),
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

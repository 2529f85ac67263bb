/**
 * The control plane: comlink over worker ports, with the types its Node adapter lacks and a timeout on
 * every call (a pending comlink call never rejects when its worker dies). Nothing per step goes here.
 */
import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);
interface ComlinkModule {
  wrap<T>(ep: unknown): Remote<T>;
  expose(obj: unknown, ep: unknown): void;
  releaseProxy: symbol;
}
const Comlink = require('comlink') as ComlinkModule;
const nodeEndpoint = require('comlink/dist/umd/node-adapter.js') as (nep: Worker | MessagePort) => unknown;

/** A remote object: every method returns a promise of its (structured-cloned) result. */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * A control call by method name, typed by the API it reaches: `CallArgs` are that method's parameters,
 * `CallReply` its awaited result (what the caller gets back from any transport).
 */
export type CallArgs<Api, M extends keyof Api> = Api[M] extends (...args: infer A) => unknown ? A : never;
export type CallReply<Api, M extends keyof Api> = Api[M] extends (...args: never) => infer R ? Awaited<R> : never;

export function wrapWorker<T>(worker: Worker): Remote<T> {
  return Comlink.wrap<T>(nodeEndpoint(worker));
}

export function exposeOnPort(obj: unknown, port: MessagePort): void {
  Comlink.expose(obj, nodeEndpoint(port));
}

export class ControlTimeoutError extends Error {}

/** Reject when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ControlTimeoutError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

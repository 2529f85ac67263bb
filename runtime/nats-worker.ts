/** Entry point of a `nats` actor started as a worker thread: control over comlink, data over NATS. */
import { parentPort, workerData } from 'node:worker_threads';
import { exposeOnPort } from './control.js';
import { startNatsActor, type NatsActorSpec } from './nats-actor.js';

exposeOnPort(await startNatsActor(workerData as NatsActorSpec), parentPort!);

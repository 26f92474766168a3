// Entry of `netdoctor serve`'s workers thread (started by serve-workers.ts; nothing else loads it).
import { parentPort, workerData } from 'node:worker_threads';
import { type ServeWorkersData, runServeWorkers } from './serve-workers';

if (parentPort) void runServeWorkers(workerData as ServeWorkersData, parentPort);

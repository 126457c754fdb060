/** The worker thread of the checked ring (checked-ring.ts): serves its jobs until told to stop. */
import { workerData } from 'node:worker_threads';
import { CheckedServer, type CheckedInit } from './checked-ring.js';

const { sab, capacity } = workerData as CheckedInit;
const server = new CheckedServer(sab, capacity);
while (!server.stopped) server.serve();

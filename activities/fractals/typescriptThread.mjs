// A worker thread's entry that runs a TypeScript module (workerData.entry, a file URL). tsx's loader
// registers itself in the main thread only, and vitest compiles TypeScript its own way: a thread
// registers tsx's hooks for itself here, in JavaScript, before it imports any TypeScript.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);

// Runs a TypeScript entry (`node scripts/runTypeScript.mjs <file.ts>`) with tsx's hooks registered in
// this thread only. `node --import tsx` would load tsx in every worker thread as well: the main
// worker's seven workflow threads (one per task queue, plain JavaScript) paid about 8 MB each for it.
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node scripts/runTypeScript.mjs <file.ts>');
  process.exit(2);
}
await import(pathToFileURL(entry).href);

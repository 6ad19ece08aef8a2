// `node scripts/launch.mjs <entry.ts> [args…]` (npm start, npm run worker, npm run api): runs an
// entry point's compiled JavaScript from .build/, building it first when a source changed.
import { pathToFileURL } from 'node:url';
import { compiledEntry, ensureBuilt } from './build.mjs';

const [, , source, ...args] = process.argv;
if (!source) {
  console.error('usage: node scripts/launch.mjs <entry.ts> [args…]');
  process.exit(2);
}
const entry = compiledEntry(await ensureBuilt(), source);
// As if node had been started on the compiled file: the cluster module forks API instances from argv[1].
process.argv = [process.execPath, entry, ...args];
await import(pathToFileURL(entry).href);

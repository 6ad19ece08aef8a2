// `node scripts/launch.mjs <entry.ts> [args…]` (npm start, npm run worker, npm run api): runs an
// entry point's compiled JavaScript from .build/, building it first (in a child process, so this
// process never holds esbuild) when a source changed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compiledEntry, currentBuildDir, projectRoot } from './build.mjs';

const [, , source, ...args] = process.argv;
if (!source) {
  console.error('usage: node scripts/launch.mjs <entry.ts> [args…]');
  process.exit(2);
}

function buildNow() {
  const built = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'buildMain.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = built.stdout.trim().split('\n').at(-1);
  if (built.status !== 0 || !dir) process.exit(1);
  return dir;
}

const entry = compiledEntry(currentBuildDir() ?? buildNow(), source);
// As if node had been started on the compiled file: the cluster module forks API instances from argv[1].
process.argv = [process.execPath, entry, ...args];
await import(pathToFileURL(entry).href);

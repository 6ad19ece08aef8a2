// Runs before `npm start`, `npm test` and `npm run bench` with nothing but Node itself:
// on a fresh clone node_modules is missing, so install it from the lockfile first.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 10)) {
  console.error(`error: Node ${process.versions.node} is too old; this project needs Node 20.10 or newer.`);
  process.exit(1);
}

const installedMarker = join(root, 'node_modules', '.package-lock.json');
const lockfile = join(root, 'package-lock.json');
const stale = !existsSync(installedMarker) || statSync(installedMarker).mtimeMs < statSync(lockfile).mtimeMs;
if (stale) {
  // `npm install`, not `npm ci`: the registry mirror here lacks some of swc's optional platform
  // packages, which `npm ci` treats as a lockfile mismatch. The lockfile still pins every version.
  console.log('Installing npm dependencies…');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('error: `npm install` failed; check that the npm registry is reachable, then run the command again.');
    process.exit(result.status ?? 1);
  }
}

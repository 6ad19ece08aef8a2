// The stack's processes run compiled JavaScript: esbuild bundles each entry point (node_modules stay
// external) into .build/<id>/, once per change of its sources. A process then loads one file in
// milliseconds, with no TypeScript loader in its memory (tsx cost each process about 30 MB and an
// esbuild service process). Plain JavaScript, so that `npm start` can run it before anything is built.
import { createHash } from 'node:crypto';
import { isBuiltin } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest directory above this file with a package.json (this file may run from .build/). */
function findProjectRoot(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`No package.json above ${start}`);
  }
}

export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * Every entry point a stack process runs, by its output name. All of them sit in one flat directory
 * with their shared chunks, so `import.meta.url` names that directory in every module of a build.
 */
export const entryPoints = {
  start: 'scripts/start.ts',
  'stack-task': 'scripts/stackTaskMain.ts',
  worker: 'workers/main.ts',
  'load-worker': 'workers/loadWorker.ts',
  'fractal-worker': 'workers/fractalWorker.ts',
  'render-thread': 'activities/fractals/renderThread.ts',
  api: 'server/main.ts',
  simulators: 'sim/main.ts',
};

/** This checkout's build; tests build a small project of their own. */
export const project = { root: projectRoot, entryPoints };

/** What a build depends on besides the sources its bundles name: this script, the compiler settings, the dependencies. */
const alwaysInputs = ['scripts/build.mjs', 'tsconfig.json', 'package.json', 'package-lock.json'];

export const sha256 = (content) => createHash('sha256').update(content).digest('hex');
const buildRootOf = (root) => join(root, '.build');

/** Each file's content hash (null for one that is not there), by its path as given: relative to `root` when there is one. */
export function fileHashes(files, root) {
  return Object.fromEntries(files.map((file) => {
    const path = root === undefined ? file : join(root, file);
    return [file, existsSync(path) ? sha256(readFileSync(path)) : null];
  }));
}

/** The current build's directory when none of the files it was built from changed since. */
export function currentBuildDir({ root } = project) {
  let dir;
  let inputs;
  try {
    const { id } = JSON.parse(readFileSync(join(buildRootOf(root), 'current.json'), 'utf8'));
    dir = join(buildRootOf(root), id);
    ({ inputs } = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  } catch {
    return undefined;
  }
  const names = Object.keys(inputs);
  const now = fileHashes(names, root);
  return names.every((file) => now[file] === inputs[file]) ? dir : undefined;
}

/** Another process may read the file meanwhile: it sees the old one or the new one, never half of one. */
export function writeAtomically(path, content) {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

/**
 * Builds every entry point into a directory named by its inputs' hash, then points .build/current.json
 * at it. Builders racing (npm start beside a test run) each write a directory of their own first, so
 * a process never loads half a build; the last few builds are kept, since a running stack may still
 * start processes from the one it started with.
 */
export function build(target = project) {
  // One at a time in a process: esbuild's service is shared, and stopped after each build.
  const run = inProcess.then(() => buildOnce(target));
  inProcess = run.catch(() => undefined);
  return run;
}
let inProcess = Promise.resolve();

async function buildOnce({ root, entryPoints: entries }) {
  const esbuild = await import('esbuild');
  const buildRoot = buildRootOf(root);
  mkdirSync(buildRoot, { recursive: true });
  const temp = join(buildRoot, `tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: entries,
      outdir: temp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      plugins: [requireCommonJsPackages(root)],
      // For the packages loaded with require(): esbuild's `__require` calls the `require` it finds in scope.
      banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
      chunkNames: 'chunk-[hash]',
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
    });
    const sources = Object.keys(result.metafile.inputs).filter((file) => !file.startsWith('node_modules/'));
    const inputs = fileHashes([...new Set([...alwaysInputs, ...sources])].sort(), root);
    const id = sha256(JSON.stringify(inputs)).slice(0, 16);
    writeFileSync(join(temp, 'manifest.json'), JSON.stringify({ inputs, builtAt: new Date().toISOString() }, null, 1));
    const dir = join(buildRoot, id);
    if (existsSync(dir)) rmSync(temp, { recursive: true, force: true });
    else {
      try {
        renameSync(temp, dir);
      } catch (error) {
        // Another builder renamed the same build into place first.
        if (!existsSync(dir)) throw error;
        rmSync(temp, { recursive: true, force: true });
      }
    }
    writeAtomically(join(buildRoot, 'current.json'), JSON.stringify({ id }));
    pruneOldBuilds(buildRoot, id);
    return dir;
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    const errors = error?.errors?.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
    throw new Error(`Building .build/ failed:\n${errors?.join('\n') ?? error}`, { cause: error });
  } finally {
    await esbuild.stop();
  }
}

/**
 * CommonJS packages are loaded with require(), ES module packages with import. An import of a
 * CommonJS package makes Node run its CommonJS lexer over the package's modules (and those they
 * re-export) to find named exports: 0.3–0.45 CPU-s in each of the API and the main worker as they
 * start. esbuild sees such a package as a one-line CommonJS module that requires it, so the bundle's
 * named imports become property reads of what require() returned, as Node's own interop gives.
 */
function requireCommonJsPackages(root) {
  const commonJs = new Map();
  const isCommonJs = (specifier) => {
    const name = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    if (!commonJs.has(name)) {
      let type = 'module';
      try {
        type = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).type ?? 'commonjs';
      } catch {
        // a package not found stays an import: Node reports it missing as it would have
      }
      commonJs.set(name, type !== 'module');
    }
    return commonJs.get(name);
  };
  const namespace = 'commonjs-package';
  return {
    name: 'require-commonjs-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.namespace === namespace) return { path: args.path, external: true };
        // import() stays Node's: esbuild would give a CommonJS module's namespace only its default export.
        if (args.kind === 'dynamic-import' || isBuiltin(args.path) || !isCommonJs(args.path)) return undefined;
        return { path: args.path, namespace };
      });
      build.onLoad({ filter: /.*/, namespace }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
    },
  };
}

/** Keeps the newest builds and drops the rest, and temporary directories left by a builder that was killed. */
function pruneOldBuilds(buildRoot, currentId, keep = 3) {
  const dirs = readdirSync(buildRoot, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  const age = (name) => Date.now() - statSync(join(buildRoot, name)).mtimeMs;
  for (const stale of dirs.filter((d) => d.name.startsWith('tmp-') && age(d.name) > 3_600_000)) rmSync(join(buildRoot, stale.name), { recursive: true, force: true });
  const builds = dirs.filter((d) => !d.name.startsWith('tmp-') && d.name !== currentId).sort((a, b) => age(a.name) - age(b.name));
  for (const old of builds.slice(keep - 1)) rmSync(join(buildRoot, old.name), { recursive: true, force: true });
}

/** The current build's directory, built first when a source changed (under a second) or none exists. */
export async function ensureBuilt(target = project) {
  return currentBuildDir(target) ?? (await build(target));
}

/** The compiled file of an entry point given by its source path (`workers/main.ts` → <build>/worker.js). */
export function compiledEntry(buildDir, source, entries = entryPoints) {
  const name = Object.keys(entries).find((key) => entries[key] === source);
  if (!name) throw new Error(`${source} is not an entry point of the build (scripts/build.mjs entryPoints)`);
  return join(buildDir, `${name}.js`);
}

/**
 * How the stack runs its Node processes. Measured on the main worker (2 cores): V8's young generation
 * per isolate, its parallel GC threads and background task pool, and glibc's per-thread malloc arenas
 * cost more memory than they win on a machine this size (450 → 270 MB with all four). Under load,
 * V8 lets the old space grow up to 4× what survived the last full GC before the next one: fixed at
 * 1.5×, the API took 179 MB instead of 315 at the peak of a 20,000-call request run, no slower (and
 * the footprint workload's total went from 1,628 to 1,297 MB). That factor made a start collect the
 * old space over and over while modules load (1.5 of a start's 10 CPU-s were GC); its first full GC
 * waits for 64 MB, which cut the stack's CPU to ready by about 2 s for about 10 MB more per process.
 * Not `--enable-source-maps`: it parses the map of every module each workflow thread loads (the
 * SDK's too), 20–60 MB more and slower starts; stack traces name .build/ chunks, which are readable
 * JavaScript.
 */
export const leanNodeFlags = ['--initial-old-space-size=64', '--max-semi-space-size=1', '--heap-growing-percent=50', '--single-threaded-gc', '--v8-pool-size=1'];
export const leanNodeEnv = { MALLOC_ARENA_MAX: '2' };

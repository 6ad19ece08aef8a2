// Workflow bundles kept on disk while their inputs are unchanged, so npm start and the test stacks
// build one (webpack + swc, 1.5–3 s of both cores) only after a change. This module holds no build
// tooling: the supervisor checks the cache here and builds, on a miss, in a child process
// (workers/bundleMain.ts), so webpack never lives in its memory.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../configValues.ts';
import { fileHashes, sha256, writeAtomically } from '../scripts/build.mjs';
import { runToCompletion } from '../scripts/processes.ts';

export const workflowsPath = join(projectRoot, 'workflows', 'index.ts');
/** Only the fractal workflows: the fractal-jobs worker's bundle (workflows/fractalsIndex.ts says why). */
export const fractalWorkflowsPath = join(projectRoot, 'workflows', 'fractalsIndex.ts');

/** Shared by every stack of this checkout (npm start, test runs, benchmarks), whatever their data dir. */
export const bundleCacheDir = join(projectRoot, '.data', 'build');
export const workflowBundleFile = join(bundleCacheDir, 'workflow-bundle.js');
export const fractalWorkflowBundleFile = join(bundleCacheDir, 'workflow-bundle-fractals.js');

interface BundleInputs {
  /** The workflows module the bundle was built from. */
  entry: string;
  /** The bundle's own hash: a bundle and a record written by two builders at once never pass for each other. */
  bundle: string;
  /** Every input file's content hash, or null for a file that was not there. */
  files: Record<string, string | null>;
}

/** What every bundle depends on besides its sources: how it is built, the bundler's version, the lockfile. */
function alwaysInputs(entry: string): string[] {
  return [
    join(projectRoot, 'workers', 'bundle.ts'),
    join(projectRoot, 'node_modules', '@temporalio', 'worker', 'package.json'),
    join(projectRoot, 'package-lock.json'),
    entry,
  ];
}

const inputsPath = (outFile: string) => `${outFile}.inputs.json`;

/** True when `outFile` holds the bundle of `entry` and none of the files it was built from changed. */
export function isBundleCurrent(outFile: string, entry: string): boolean {
  if (!existsSync(outFile) || !existsSync(inputsPath(outFile))) return false;
  let recorded: BundleInputs;
  try {
    recorded = JSON.parse(readFileSync(inputsPath(outFile), 'utf8')) as BundleInputs;
  } catch {
    return false;
  }
  if (recorded.entry !== entry) return false;
  const names = Object.keys(recorded.files ?? {});
  // Only the always-inputs recorded: the bundle had no source map to name its sources.
  if (names.length <= alwaysInputs(entry).length) return false;
  const now = fileHashes(names);
  if (!names.every((file) => now[file] === recorded.files[file])) return false;
  return sha256(readFileSync(outFile)) === recorded.bundle;
}

/** Writes a freshly built bundle and the record of what it was built from (the files its inline source map names). */
export function recordBundle(outFile: string, entry: string, code: string): void {
  const map = /sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)/.exec(code);
  const sources = map ? (JSON.parse(Buffer.from(map[1]!, 'base64').toString()) as { sources: string[] }).sources.filter((s) => s.startsWith('/')) : [];
  mkdirSync(dirname(outFile), { recursive: true });
  writeAtomically(outFile, code);
  const inputs: BundleInputs = { entry, bundle: sha256(code), files: fileHashes([...new Set([...alwaysInputs(entry), ...sources])]) };
  writeAtomically(inputsPath(outFile), JSON.stringify(inputs, null, 1));
}

/**
 * The path of a current bundle of `entry` at `outFile`, for `workflowBundle: { codePath }`: the one
 * on disk while its inputs are unchanged, otherwise one built by `tsx workers/bundleMain.ts` in a child
 * process.
 */
export async function ensureWorkflowBundle(outFile: string, entry = workflowsPath): Promise<string> {
  if (isBundleCurrent(outFile, entry)) return outFile;
  const { code, stderr } = await runToCompletion(process.execPath, ['--import', 'tsx', join(projectRoot, 'workers', 'bundleMain.ts'), entry, outFile], { cwd: projectRoot });
  if (code !== 0) throw new Error(`Bundling ${entry} failed (${code}):\n${stderr}`);
  return outFile;
}

// Workflows are bundled once (webpack + swc takes 1–2 s on two cores) and the bundle is shared by
// every worker process of a stack and by every test file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath } from '../temporal/codec.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Only the fractal workflows: the fractal-jobs worker's bundle (workflows/fractalsIndex.ts says why). */
export const fractalWorkflowsPath = fileURLToPath(new URL('../workflows/fractalsIndex.ts', import.meta.url));

const quietLogger = {
  log: () => {}, trace: () => {}, debug: () => {}, info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export function buildWorkflowBundle(path = workflowsPath): Promise<WorkflowBundleWithSourceMap> {
  // Workflow failures are converted inside the sandbox: their messages must be encoded (and so encrypted) there too.
  return bundleWorkflowCode({ workflowsPath: path, failureConverterPath, logger: quietLogger });
}

/** Every file's content hash, or null for a file that is not there. */
function fingerprint(files: string[]): Record<string, string | null> {
  return Object.fromEntries(files.map((file) => [file, existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null]));
}

/** A reader (another process, a test run) sees the old file or the new one, never half of one. */
function writeAtomically(path: string, content: string): void {
  writeFileSync(`${path}.${process.pid}`, content);
  renameSync(`${path}.${process.pid}`, path);
}

/**
 * Writes the bundle of `path`'s workflows (default: all) to `outFile` and returns its path, for
 * `workflowBundle: { codePath }`; a bundle already there is kept while none of its sources changed.
 * Bundling takes 1.5–3 s of both cores. The bundle's inline source map names every file it was built
 * from; with the bundler's own options and the lockfile, their hashes (in `<outFile>.inputs.json`)
 * decide whether the last bundle is still this code.
 */
export async function writeWorkflowBundle(outFile: string, path = workflowsPath): Promise<string> {
  const inputsPath = `${outFile}.inputs.json`;
  const always = [fileURLToPath(import.meta.url), fileURLToPath(new URL('../package-lock.json', import.meta.url)), path];
  if (existsSync(outFile) && existsSync(inputsPath)) {
    const recorded = JSON.parse(readFileSync(inputsPath, 'utf8')) as Record<string, string | null>;
    const now = fingerprint(Object.keys(recorded));
    const sameEntry = always.every((file) => file in recorded);
    if (sameEntry && Object.keys(recorded).length > always.length && Object.entries(recorded).every(([file, hash]) => now[file] === hash)) return outFile;
  }
  const { code } = await buildWorkflowBundle(path);
  const map = /sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)/.exec(code);
  const sources = map ? (JSON.parse(Buffer.from(map[1]!, 'base64').toString()) as { sources: string[] }).sources.filter((s) => s.startsWith('/')) : [];
  mkdirSync(dirname(outFile), { recursive: true });
  writeAtomically(outFile, code);
  // Without a source map there is nothing to check against: the next start builds again.
  writeAtomically(inputsPath, JSON.stringify(sources.length > 0 ? fingerprint([...new Set([...always, ...sources])]) : {}, null, 1));
  return outFile;
}

// Builds workflow bundles (webpack + swc, 1.5–3 s of both cores); workers/bundleCache.ts keeps them
// while their sources are unchanged. Run as `tsx workers/bundle.ts <workflows entry> <out file>`, it
// is the child process in which the supervisor builds one.
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { failureConverterPath } from '../temporal/codec.ts';
import { isBundleCurrent, recordBundle, workflowsPath } from './bundleCache.ts';

export { fractalWorkflowsPath, workflowsPath } from './bundleCache.ts';

const quietLogger = {
  log: () => {}, trace: () => {}, debug: () => {}, info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export function buildWorkflowBundle(path = workflowsPath): Promise<WorkflowBundleWithSourceMap> {
  // Workflow failures are converted inside the sandbox: their messages must be encoded (and so encrypted) there too.
  return bundleWorkflowCode({ workflowsPath: path, failureConverterPath, logger: quietLogger });
}

/**
 * Writes the bundle of `path`'s workflows (default: all) to `outFile`, in this process, and returns
 * its path, for `workflowBundle: { codePath }`; a bundle already there is kept while none of its
 * inputs changed.
 */
export async function writeWorkflowBundle(outFile: string, path = workflowsPath): Promise<string> {
  if (isBundleCurrent(outFile, path)) return outFile;
  const { code } = await buildWorkflowBundle(path);
  recordBundle(outFile, path, code);
  return outFile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [entry, outFile] = process.argv.slice(2);
  if (!entry || !outFile) {
    console.error('usage: tsx workers/bundle.ts <workflows entry> <out file>');
    process.exit(2);
  }
  writeWorkflowBundle(outFile, entry).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

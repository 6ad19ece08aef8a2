// Workflows are bundled once (webpack + swc takes 1–2 s on two cores) and the bundle is shared by
// every worker process of a stack and by every test file.
import { mkdirSync, writeFileSync } from 'node:fs';
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

/** Writes the bundle of `path`'s workflows (default: all) to `outFile` and returns its path, for `workflowBundle: { codePath }`. */
export async function writeWorkflowBundle(outFile: string, path = workflowsPath): Promise<string> {
  const { code } = await buildWorkflowBundle(path);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, code);
  return outFile;
}

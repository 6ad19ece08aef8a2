// Builds workflow bundles (webpack + swc, 1.5–3 s of both cores); workers/bundleCache.ts keeps them
// while their sources are unchanged, and builds them in a child process (workers/bundleMain.ts).
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
  recordBundle(outFile, path, withoutSourcesContent(code));
  return outFile;
}

/**
 * The bundle with its inline source map's copies of every source file left out (two thirds of the
 * bundle). Each workflow thread holds the whole bundle: without them each thread takes 10–15 MB
 * less. Stack traces still name each workflow's file and line.
 */
export function withoutSourcesContent(code: string): string {
  const marker = '//# sourceMappingURL=data:application/json;';
  const at = code.lastIndexOf(marker);
  if (at < 0) return code;
  const base64 = code.slice(at).split('base64,')[1]?.trim();
  if (!base64) return code;
  const { sourcesContent: _dropped, ...map } = JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as { sourcesContent?: unknown };
  return `${code.slice(0, at)}${marker}charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

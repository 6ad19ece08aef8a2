// The unit tier's only set-up, no shared stack: the workflow bundle (built once for every test file,
// and reused by the next run while none of its sources changed) and Temporal's time-skipping test
// server (installed when missing; each file starts its own).
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../../config.ts';
import { ensureTemporalTestServer } from '../../../scripts/temporalTestServer.ts';
import { workflowBundleFile } from '../../../workers/bundleCache.ts';
import { writeWorkflowBundle } from '../../../workers/bundle.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The prebuilt workflow bundle and the test server's wrapper script. */
    unitEnv: { workflowBundlePath: string; testServerPath: string };
  }
}

export default async function setup(project: TestProject) {
  const config = loadConfig();
  const testServerPath = await ensureTemporalTestServer(config, (line) => console.log(line));
  // The stack's own cache: one bundle for the unit tier, the test stacks and npm start.
  const workflowBundlePath = await writeWorkflowBundle(workflowBundleFile);
  project.provide('unitEnv', { workflowBundlePath, testServerPath });
}

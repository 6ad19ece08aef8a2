// The unit tier's only set-up, no shared stack: the workflow bundle (built once for every test file)
// and Temporal's time-skipping test server (installed when missing; each file starts its own).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../../config.ts';
import { ensureTemporalTestServer } from '../../../temporal/testServer.ts';
import { writeWorkflowBundle } from '../../../workers/bundle.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The prebuilt workflow bundle and the test server's wrapper script. */
    unitEnv: { workflowBundlePath: string; testServerPath: string };
  }
}

export default async function setup(project: TestProject) {
  const testServerPath = await ensureTemporalTestServer(loadConfig(), (line) => console.log(line));
  const dir = mkdtempSync(join(tmpdir(), 'fleet-unit-'));
  const workflowBundlePath = await writeWorkflowBundle(join(dir, 'workflow-bundle.js'));
  project.provide('unitEnv', { workflowBundlePath, testServerPath });
  return () => rmSync(dir, { recursive: true, force: true });
}

// Starts one private stack for the whole test run, on free ports and a temporary data dir, so
// tests never collide with a running `npm start`; tears it down even when tests fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { hostEnv, loadConfig } from '../../config.ts';
import { freeStackPorts, startStack } from '../../scripts/stack.ts';
import { ensureWorkflowBundle, workflowBundleFile } from '../../workers/bundleCache.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Settings of the test stack, as environment variables (feed them to loadConfig). */
    stackEnv: Record<string, string>;
  }
}

export default async function setup(project: TestProject) {
  // Short path: MariaDB's unix socket lives in the data dir and socket paths are limited to 107 bytes.
  const dataDir = mkdtempSync(join(tmpdir(), 'fleet-test-'));
  const config = loadConfig({ ...hostEnv(), ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir });
  const stack = await startStack({
    config,
    hostEnv: hostEnv(),
    // A file, as npm start's: test/payloadCodec.test.ts scans it for plaintext payloads.
    persistentTemporal: true,
    temporalUi: false,
    app: false,
    log: () => {},
  });
  const bundlePath = await ensureWorkflowBundle(workflowBundleFile);
  project.provide('stackEnv', { ...config.env, WORKFLOW_BUNDLE_PATH: bundlePath });
  return async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

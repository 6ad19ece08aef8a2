// A private stack for one benchmark: free ports, a temporary data dir, stopped and removed after.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostEnv, loadConfig, type Config } from '../config.ts';
import { freeStackPorts, startStack, type Stack, type StackOptions } from '../scripts/stack.ts';

export interface PrivateStack {
  config: Config;
  stack: Stack;
  /** Stops every process and deletes the data dir. */
  stop(): Promise<void>;
}

export async function startPrivateStack(name: string, settings: Record<string, string>, app: StackOptions['app']): Promise<PrivateStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const config = loadConfig({ ...hostEnv(), ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir, ...settings });
  const stack = await startStack({ config, hostEnv: hostEnv(), persistentTemporal: false, temporalUi: false, app, log: console.log });
  return {
    config,
    stack,
    async stop() {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

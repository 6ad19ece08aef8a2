// stack-start: how long `npm start` takes from launch to "ready" (API /readyz green, worker polling),
// measured by launching scripts/start.ts as a user would. Side by side, in the same run, the
// baseline is the bare Temporal dev server alone: the floor no stack start can beat.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostEnv, loadConfig } from '../config.ts';
import { freeStackPorts } from '../scripts/stack.ts';
import { runStart } from '../scripts/npmStart.ts';
import { setup } from '../scripts/setup.ts';
import { locateTemporalCli, projectCliPath } from '../scripts/temporalCli.ts';
import { launchTemporalDevServer } from '../scripts/temporalDevServer.ts';
import { waitForTemporal } from '../scripts/temporalReady.ts';

const WARM_RUNS = 3;

/**
 * Launches `npm start`'s script, returns seconds until it printed that it is ready, then stops it.
 * With `timings`, the start prints how long each part took, and `timings` gets those lines.
 */
export function timeStart(env: Record<string, string>, timings?: (lines: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const { child } = runStart(env, timings ? ['--timings'] : []);
    let output = '';
    let readyAfter: number | undefined;
    const onData = (data: Buffer) => {
      output += data.toString();
      if (readyAfter === undefined && output.includes('Press Ctrl-C to stop.')) {
        readyAfter = (performance.now() - started) / 1000;
        timings?.(/Timings:\n([\s\S]*?)\n\n/.exec(output)?.[1] ?? '');
        child.kill('SIGINT');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      if (readyAfter !== undefined && code === 0) resolve(readyAfter);
      else reject(new Error(`start exited with ${code} (${signal}) before it was ready:\n${output}`));
    });
  });
}

/** The bare Temporal dev server alone (persistent, with its UI, as npm start runs it): seconds until it answers. */
export async function timeBareTemporal(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-temporal-'));
  const config = loadConfig({ ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir });
  const cli = locateTemporalCli(config, hostEnv().PATH)!;
  const started = performance.now();
  const server = launchTemporalDevServer(config, cli, hostEnv(), { persistent: true, ui: true });
  await waitForTemporal(config, { timeoutMs: 60_000, process: server });
  const seconds = (performance.now() - started) / 1000;
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return seconds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (value: number) => Math.round(value * 100) / 100;

export async function stackStartBenchmark(): Promise<Record<string, unknown>> {
  const config = loadConfig();
  // Cold: only meaningful when this clone has not installed anything yet.
  const alreadyInstalled = existsSync(projectCliPath(config)) || Boolean(locateTemporalCli(config, hostEnv().PATH));
  let coldSeconds: number | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-stack-'));
  const env = { ...(await freeStackPorts()), FLEET_DATA_DIR: dataDir };
  if (!alreadyInstalled) {
    const started = performance.now();
    await setup(config, hostEnv(), { browser: false }, (line) => console.log(line));
    await timeStart(env);
    coldSeconds = (performance.now() - started) / 1000;
  }
  const firstStart = await timeStart(env); // creates the data (MariaDB system tables, SQLite schema)
  console.log(`first start on an empty data dir: ${firstStart.toFixed(2)} s`);
  const warm: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    warm.push(await timeStart(env));
    bare.push(await timeBareTemporal());
    console.log(`run ${i + 1}: stack ready in ${warm[i]!.toFixed(2)} s; bare Temporal dev server ready in ${bare[i]!.toFixed(2)} s`);
  }
  rmSync(dataDir, { recursive: true, force: true });
  const warmSeconds = median(warm);
  const bareSeconds = median(bare);
  console.log(`warm start ${warmSeconds.toFixed(2)} s = ${(warmSeconds / bareSeconds).toFixed(2)}× the bare Temporal dev server (${bareSeconds.toFixed(2)} s)`);
  return {
    cold_s: coldSeconds === null ? null : round(coldSeconds),
    warm_s: round(warmSeconds),
    first_start_empty_data_s: round(firstStart),
    baseline_temporal_only_s: round(bareSeconds),
    ratio_to_temporal_only: round(warmSeconds / bareSeconds),
    runs: WARM_RUNS,
    goal_warm_s: 15,
  };
}

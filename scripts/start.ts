// `npm start`: install what is missing, bring the whole stack up, print where everything is,
// and stop it all cleanly on Ctrl-C. A second start reuses .data/.
import { hostEnv as readHostEnv, loadConfig } from '../config.ts';
import { reportFatal, setup } from './setup.ts';
import { startStack } from './stack.ts';
import type { ManagedProcess } from './processes.ts';

async function main(): Promise<void> {
  const started = performance.now();
  const config = loadConfig();
  const env = readHostEnv();
  const log = (line: string) => console.log(line);
  await setup(config, env, { browser: false }, log);
  const stack = await startStack({ config, hostEnv: env, persistentTemporal: true, temporalUi: true, app: { workers: 1 }, log });
  const api = `http://${config.api.host}:${config.api.port}`;
  log(`
Ready in ${((performance.now() - started) / 1000).toFixed(1)} s.
  UI and API        ${api}   (readiness: ${api}/readyz)
  Temporal          ${config.temporal.address}   namespace ${config.temporal.namespace}
  Temporal Web UI   ${config.temporal.webUiUrl}
  Logs              ${config.logDir}
Press Ctrl-C to stop.`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping…`);
    void stack.stop().then(() => {
      log('Stopped.');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  const fail = (message: string) => {
    stopping = true;
    console.error(`error: ${message}`);
    void stack.stop().then(() => process.exit(1));
  };
  for (const service of stack.services) {
    void service.exited.then((code) => {
      if (!stopping) fail(`${service.name} exited unexpectedly (${code}); see ${service.logFile}. Stopped the stack.`);
    });
  }
  // Workers and the API are restarted: Temporal keeps every accepted workflow, so a crashed worker
  // only delays work. A process that keeps crashing stops the stack instead of looping.
  const recentRestarts: number[] = [];
  const watch = (child: ManagedProcess) => {
    void child.exited.then((code) => {
      if (stopping) return;
      const now = Date.now();
      recentRestarts.push(now);
      while (recentRestarts[0]! < now - 60_000) recentRestarts.shift();
      if (recentRestarts.length > 5) return fail(`${child.name} keeps exiting (${code}); see ${child.logFile}. Stopped the stack.`);
      log(`${child.name} exited (${code}); restarting it. Its log: ${child.logFile}`);
      watch(stack.restartAppProcess(child.name));
    });
  };
  stack.appProcesses.forEach(watch);
}

main().catch(reportFatal);

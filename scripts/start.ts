// `npm start`: install what is missing, bring the whole stack up, print where everything is,
// and stop it all cleanly on Ctrl-C. A second start reuses .data/.
import { hostEnv as readHostEnv, loadConfig } from '../config.ts';
import { reportFatal, setup } from './setup.ts';
import { startStack } from './stack.ts';

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
  for (const child of [...stack.services, ...stack.appProcesses]) {
    void child.exited.then((code) => {
      if (stopping) return;
      console.error(`error: ${child.name} exited unexpectedly (${code}); see ${child.logFile}. Stopping the stack.`);
      void stack.stop().then(() => process.exit(1));
    });
  }
}

main().catch(reportFatal);

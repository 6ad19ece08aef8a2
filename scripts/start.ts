// `npm start`: install what is missing, bring the whole stack up, print where everything is, keep it
// up (scripts/supervisor.ts restarts whatever exits), and stop it all cleanly on Ctrl-C. A second
// start reuses .data/.
import { hostEnv as readHostEnv, loadConfig } from '../config.ts';
import { defaultBackoff } from './restartPolicy.ts';
import { reportFatal, setup } from './setup.ts';
import { startStack, type Stack } from './stack.ts';
import { superviseStack, type Supervisor } from './supervisor.ts';
import { createStartTimings, noStartTimings } from './startTimings.ts';

async function main(): Promise<void> {
  const started = performance.now();
  // `npm start -- --timings`: how long each part took, printed above the URLs.
  const timings = process.argv.includes('--timings') ? createStartTimings(started) : noStartTimings;
  const log = (line: string) => console.log(line);
  let stack: Stack | undefined;
  let supervisor: Supervisor | undefined;
  let stopping = false;
  const stopAndExit = (code: number) => {
    stopping = true;
    supervisor?.stop();
    void (stack?.stop() ?? Promise.resolve()).then(() => {
      if (code === 0) log('Stopped.');
      process.exit(code);
    });
  };
  // Signal handlers first: a Ctrl-C that arrives while servers are starting must still stop them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      log(`\n${signal}: stopping…`);
      if (stack) stopAndExit(0);
      else stopping = true; // startStack is under way: stop once it returns
    });
  }
  const config = loadConfig();
  const env = readHostEnv();
  await timings.time('install checks', () => setup(config, env, { browser: false }, log));
  stack = await startStack({ config, hostEnv: env, persistentTemporal: true, temporalUi: true, app: { workers: 1 }, firstAdmin: true, log, timings });
  if (stopping) return stopAndExit(0);
  const api = `http://${config.api.host}:${config.api.port}`;
  const { firstAdmin } = stack;
  const signIn = !firstAdmin
    ? ''
    : firstAdmin.password
      ? `\n  Sign in           ${api}/login as ${firstAdmin.username}, one-time password ${firstAdmin.password}\n                    (also in ${firstAdmin.file}; you choose your own at the first sign-in)`
      : `\n  Sign in           ${api}/login as ${firstAdmin.username}; its one-time password is in ${firstAdmin.file}`;
  const timingLines = timings.lines();
  if (timingLines.length > 0) log(`\nTimings:\n${timingLines.map((line) => `  ${line}`).join('\n')}`);
  log(`
Ready in ${((performance.now() - started) / 1000).toFixed(1)} s.
  UI and API        ${api}   (readiness: ${api}/readyz)${signIn}
  Temporal          ${config.temporal.address}   namespace ${config.temporal.namespace}
  Temporal Web UI   ${config.temporal.webUiUrl}
  Cloud Foundry     ${config.cf.apiUrl}${config.cf.simulator.run ? '   (simulator; knobs at /__sim/config)' : ''}
  EC2 and ELBv2     ${config.aws.endpoint ?? `AWS ${config.aws.region}`}${config.aws.moto.run ? '   (moto)' : ''}
  Nodes over SSH    ${config.ssh.sshd.run ? `local sshd on ${config.ssh.sshd.addresses[0]}–${config.ssh.sshd.addresses.at(-1)}:${config.ssh.sshd.port}` : `each instance's ${config.ssh.endpoints}`}
  Mail              ${config.smtp.host}:${config.smtp.port}${config.smtp.sink.run ? `   (sink; mailbox at ${api}/nodes/mailbox)` : ''}
  Logs              ${config.logDir}
Press Ctrl-C to stop.`);

  // Every process is restarted when it exits (servers on their data, workers, the API): Temporal keeps
  // every accepted workflow, so a crash only delays work. One that keeps crashing stops the stack.
  supervisor = superviseStack(stack, {
    policy: { ...defaultBackoff, ...config.supervisor },
    log,
    giveUp: (message) => {
      console.error(`error: ${message}`);
      stopAndExit(1);
    },
  });
}

main().catch(reportFatal);

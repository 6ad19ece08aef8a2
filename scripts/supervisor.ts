// npm start's supervisor: every process of the stack (servers, workers, the API) that exits is
// restarted after a growing delay, with one log line each time, and its state is written to
// <data dir>/supervisor.json for /readyz and the Home page. A process that keeps crashing stops the
// stack instead of looping: more than `maxRestarts` crashes within the window.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { supervisorStatusPath, type ProcessState, type SupervisorStatus } from '../services/supervisorStatus.ts';
import type { ManagedProcess } from './processes.ts';
import { decideRestart, givingUpMessage, restartLine, type RestartPolicy } from './restartPolicy.ts';

export interface SupervisedStack {
  config: { dataDir: string };
  services: ManagedProcess[];
  appProcesses: ManagedProcess[];
  restart(name: string): Promise<ManagedProcess>;
}

export interface SupervisorOptions {
  policy: RestartPolicy;
  log(line: string): void;
  /** Called once, when a process has crashed too often: the message names it; the caller stops the stack. */
  giveUp(message: string): void;
}

export interface Supervisor {
  /** Stops restarting (before the stack stops), and removes the status file. */
  stop(): void;
}

export function superviseStack(stack: SupervisedStack, options: SupervisorOptions): Supervisor {
  const { policy, log } = options;
  const statusPath = supervisorStatusPath(stack.config.dataDir);
  const status: SupervisorStatus = {};
  const crashes = new Map<string, number[]>();
  let stopped = false;

  const setState = (name: string, state: ProcessState, restarts: number) => {
    status[name] = { state, restarts, since: new Date().toISOString() };
    if (stopped) return;
    // Written whole and renamed into place: a reader never sees half a file.
    writeFileSync(`${statusPath}.tmp`, JSON.stringify(status));
    renameSync(`${statusPath}.tmp`, statusPath);
  };

  // Servers being restarted: a worker or the API restarted meanwhile waits for them first, rather
  // than exiting again at once for want of Temporal or MySQL and spending its restarts.
  const serviceNames = new Set(stack.services.map((p) => p.name));
  const serversComingBack = new Map<string, Promise<void>>();

  const watch = (child: ManagedProcess) => {
    void child.exited.then((code) => {
      const coming = restartAfterCrash(child, code);
      if (!serviceNames.has(child.name)) return;
      serversComingBack.set(child.name, coming);
      void coming.finally(() => serversComingBack.delete(child.name));
    });
  };

  const restartAfterCrash = async (child: ManagedProcess, code: number | string): Promise<void> => {
    if (stopped) return;
    const { name } = child;
    const decision = decideRestart(crashes.get(name) ?? [], Date.now(), policy);
    crashes.set(name, decision.crashes);
    if (!decision.restart) {
      stopped = true;
      options.giveUp(`${givingUpMessage(name, code, decision.crashes.length, policy)}; see ${child.logFile}. Stopped the stack.`);
      return;
    }
    log(`${restartLine(name, code, decision, policy)}. Its log: ${child.logFile}`);
    const restarts = (status[name]?.restarts ?? 0) + 1;
    setState(name, 'restarting', restarts);
    await sleep(decision.delayMs);
    if (!serviceNames.has(name)) await Promise.all(serversComingBack.values());
    if (stopped) return;
    let fresh: ManagedProcess;
    try {
      fresh = await stack.restart(name);
    } catch (error) {
      if (stopped) return;
      // Not back (still crashing, or not healthy in time): a crash like any other.
      log(`${name} did not come back: ${(error as Error).message.split('\n')[0]}`);
      return restartAfterCrash(child, 'failed to start');
    }
    if (stopped) return void (await fresh.stop());
    setState(name, 'running', restarts);
    watch(fresh);
  };

  for (const child of [...stack.services, ...stack.appProcesses]) {
    setState(child.name, 'running', 0);
    watch(child);
  }
  return {
    stop() {
      stopped = true;
      rmSync(statusPath, { force: true });
    },
  };
}

// A remote script runs at most once per script run and node, against the local sshd: a retry after
// a dropped connection reports the run the first attempt started instead of running the script
// again, and cancelling the activity stops the script on the node.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createNodeScriptActivities } from '../activities/nodes/scripts.ts';
import { createSshRunner, LOCAL_SSH_KEY, SshUnreachableError, type SshRunner } from '../activities/nodes/ssh.ts';
import type { SshTarget } from '../workflows/nodes.shared.ts';
import { createScriptOutputStore } from '../db/scriptOutputs.ts';
import { useStack } from './support/fixture.ts';

describe('a remote script runs at most once per run and node', () => {
  const stack = useStack({ workers: false });
  const files: string[] = [];
  afterAll(() => files.forEach((file) => rmSync(file, { force: true })));

  const scratchFile = () => {
    const file = `/tmp/fleet-at-most-once-${randomUUID()}`;
    files.push(file);
    return file;
  };
  const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const target = (): SshTarget => ({ node: 'once01', host: stack.env.config.ssh.sshd.addresses[0]!, port: stack.env.config.ssh.sshd.port, user: userInfo().username, keyRef: LOCAL_SSH_KEY });
  const outputs = () => createScriptOutputStore(stack.env.clients.mysql);
  const realRunner = () => createSshRunner({ keysDir: stack.env.config.ssh.keysDir });
  /** One attempt of one activity: retries share the workflow run and activity ID, as Temporal's do. */
  const attempt = (workflowId: string, number: number) =>
    new MockActivityEnvironment({ workflowExecution: { workflowId, runId: 'run-1' }, activityId: '7', attempt: number });
  const request = (script: string) => ({ target: target(), context: { cluster: 'once', node: 'once01' }, script, timeoutMs: 20_000 });

  it('a retry after a connection dropped mid-command reports the first run and does not run the script again', async () => {
    const file = scratchFile();
    const script = `echo ran >> ${file}; sleep 1; echo finished`;
    const workflowId = `script-run:once:${randomUUID()}`;
    // The first attempt loses its connection 400 ms in: to the activity, the node became unreachable.
    const real = realRunner();
    const dropping: SshRunner = {
      run: (t, command, options) => Promise.race([real.run(t, command, options), sleep(400).then(() => Promise.reject(new SshUnreachableError('SSH connection lost: read ECONNRESET')))]),
    };
    const first = await attempt(workflowId, 1).run(createNodeScriptActivities({ ssh: dropping, outputs: outputs() }).runScriptOnNode, request(script)).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ApplicationFailure);
    expect((first as ApplicationFailure).type).toBe('SshUnreachable');

    const retried = await attempt(workflowId, 2).run(createNodeScriptActivities({ ssh: realRunner(), outputs: outputs() }).runScriptOnNode, request(script));
    expect(retried).toMatchObject({ node: 'once01', outcome: 'succeeded', exitCode: 0, stdout: 'finished\n' });
    await sleep(300);
    expect(lines(file)).toEqual(['ran']);

    // Another script run (another workflow) is another run: it does run.
    await attempt(`${workflowId}-again`, 1).run(createNodeScriptActivities({ ssh: realRunner(), outputs: outputs() }).runScriptOnNode, request(script));
    expect(lines(file)).toEqual(['ran', 'ran']);
  });

  it('cancelling the activity stops the script on the node', async () => {
    const file = scratchFile();
    const environment = attempt(`script-run:once:${randomUUID()}`, 1);
    const running = environment.run(createNodeScriptActivities({ ssh: realRunner(), outputs: outputs() }).runScriptOnNode, request(`echo started >> ${file}; sleep 2; echo finished >> ${file}`)).catch((error: unknown) => error);
    await expect.poll(() => { try { return lines(file); } catch { return []; } }, { timeout: 10_000, interval: 50 }).toEqual(['started']);
    environment.cancel('CANCELLED');
    expect(await running).toBeInstanceOf(CancelledFailure);
    await sleep(2500);
    expect(lines(file)).toEqual(['started']);
  });

  it('a command gets the whole of its stderr when it ends right after printing it', async () => {
    // ssh2 closes the channel once stdout ends; the last stderr chunks can still be in flight.
    const runner = realRunner();
    const bytes = 48 * 1024;
    const results = await Promise.all(
      Array.from({ length: 12 }, () => runner.run(target(), `head -c ${bytes} /dev/zero; head -c ${bytes} /dev/zero >&2`, { timeoutMs: 20_000, maxOutputBytes: bytes })),
    );
    for (const result of results) expect([result.exitCode, result.stdout.length, result.stderr.length]).toEqual([0, bytes, bytes]);
  });
});

// waitSshLogin heartbeats while it waits: during an SSH attempt that takes longer than the
// workflow's heartbeat timeout (a filtered port: each attempt waits out the ready timeout), and
// during the pause between attempts, not only once as each attempt starts.
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createNodeScriptActivities } from '../../activities/nodes/scripts.ts';
import { SshUnreachableError, type SshRunner } from '../../activities/nodes/ssh.ts';
import type { CommandResult, SshTarget } from '../../workflows/nodes.shared.ts';
import type { ScriptOutputStore } from '../../db/scriptOutputs.ts';

const target: SshTarget = { node: 'n1', host: '127.0.0.1', port: 2222, user: 'fleet', keyRef: 'local-ed25519' };
const loggedIn: CommandResult = { exitCode: 0, signal: null, stdout: '', stderr: '', truncated: false, timedOut: false, durationMs: 5, hostKeySha256: 'abc' };

/** An SSH runner whose attempts take `attemptMs` each; the first `failures` end unreachable. */
function slowRunner(attemptMs: number, failures: number) {
  const attempts: Array<{ started: number; ended: number }> = [];
  const ssh: SshRunner = {
    async run() {
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, attemptMs));
      attempts.push({ started, ended: performance.now() });
      if (attempts.length <= failures) throw new SshUnreachableError('SSH to fleet@127.0.0.1:2222 failed: Timed out while waiting for handshake');
      return loggedIn;
    },
  };
  return { ssh, attempts };
}

/** The activity's "failed" warnings are expected outcomes here: log errors only. */
const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

function recordHeartbeats(env: MockActivityEnvironment) {
  const at: number[] = [];
  env.on('heartbeat', () => at.push(performance.now()));
  return at;
}

const between = (times: number[], from: number, to: number) => times.filter((t) => t > from && t < to).length;

/** waitSshLogin stores no script output. */
const noOutputs: ScriptOutputStore = {
  save: () => Promise.reject(new Error('waitSshLogin must not store output')),
  forRun: () => Promise.reject(new Error('waitSshLogin must not read output')),
};

describe('waitSshLogin heartbeats while it waits', () => {
  it('heartbeats during one attempt that takes many heartbeat periods', async () => {
    const { ssh, attempts } = slowRunner(600, 1);
    const activities = createNodeScriptActivities({ ssh, outputs: noOutputs, heartbeatEveryMs: 50 });
    const env = quietEnvironment();
    const beats = recordHeartbeats(env);

    const login = await env.run(activities.waitSshLogin, { target, timeoutMs: 10_000, pollMs: 10 });

    expect(login).toMatchObject({ attempts: 2, hostKeySha256: 'abc' });
    // 600 ms at one beat per 50 ms: about 12 during each attempt (the old code gave none).
    for (const attempt of attempts) expect(between(beats, attempt.started, attempt.ended)).toBeGreaterThanOrEqual(5);
  });

  it('heartbeats during the pause between attempts', async () => {
    const { ssh, attempts } = slowRunner(1, 1);
    const activities = createNodeScriptActivities({ ssh, outputs: noOutputs, heartbeatEveryMs: 50 });
    const env = quietEnvironment();
    const beats = recordHeartbeats(env);

    await env.run(activities.waitSshLogin, { target, timeoutMs: 10_000, pollMs: 600 });

    expect(between(beats, attempts[0]!.ended, attempts[1]!.started)).toBeGreaterThanOrEqual(5);
  });

  it('stops heartbeating once it has given up', async () => {
    const { ssh } = slowRunner(1, Infinity);
    const activities = createNodeScriptActivities({ ssh, outputs: noOutputs, heartbeatEveryMs: 20 });
    const env = quietEnvironment();
    const beats = recordHeartbeats(env);

    const failure = await env.run(activities.waitSshLogin, { target, timeoutMs: 200, pollMs: 50 }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'SshUnreachable', nonRetryable: true });
    const count = beats.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(beats.length).toBe(count);
  });
});

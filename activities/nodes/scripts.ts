// OSConfiguration, LocalScript and DistributedScript's per-node step: commands sent over SSH.
// A deployment step fails on a non-zero exit; a DistributedScript node reports it as its result.
import { setTimeout as sleep } from 'node:timers/promises';
import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ScriptOutputStore } from '../../db/scriptOutputs.ts';
import { MAX_OUTPUT_BYTES, OUTPUT_TAIL_BYTES, type CommandResult, type NodeScriptResult, type SshTarget } from '../../workflows/nodes.shared.ts';
import { killCommand, markerKey, onceCommand, parseMarkedOutput, type MarkedOutput } from './scriptMarker.ts';
import { CommandAbortedError, envPrefix, SshHostKeyMismatchError, SshKeyError, SshUnreachableError, type SshRunner } from './ssh.ts';

/** The last lines of a stream, for an error message that fits on a screen. */
export function tail(text: string, lines = 6): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Variables every command on a node gets: which node and cluster it runs for. */
export interface NodeContext {
  cluster: string;
  node: string;
  instanceId?: string | null;
  /** The cluster update script's cause: a node that joined (`activate`) or left (`remove`). */
  change?: { kind: 'activate' | 'remove'; node: string };
}

/** FLEET_CLUSTER, FLEET_NODE, FLEET_INSTANCE_ID; for a cluster update also FLEET_CHANGE and FLEET_CHANGED_NODE. */
export function nodeEnv(context: NodeContext): Record<string, string> {
  const env: Record<string, string> = { FLEET_CLUSTER: context.cluster, FLEET_NODE: context.node, FLEET_INSTANCE_ID: context.instanceId ?? '' };
  if (context.change) Object.assign(env, { FLEET_CHANGE: context.change.kind, FLEET_CHANGED_NODE: context.change.node });
  return env;
}

/** SSH errors that no retry can fix (a missing key, a changed host key), as final Temporal failures. */
function finalSshFailure(error: unknown): ApplicationFailure | undefined {
  if (error instanceof SshKeyError) return ApplicationFailure.nonRetryable(error.message, 'SshKeyMissing');
  if (error instanceof SshHostKeyMismatchError) return ApplicationFailure.nonRetryable(error.message, 'SshHostKeyMismatch');
  return undefined;
}

/** Runs a command; an unreachable node or a missing key becomes the right kind of Temporal failure. */
async function runOn(
  ssh: SshRunner,
  target: SshTarget,
  command: string,
  options: { timeoutMs: number; stdin?: string; maxOutputBytes?: number; signal?: AbortSignal },
  heartbeatEveryMs = 1000,
): Promise<CommandResult> {
  const beat = setInterval(() => heartbeat(), heartbeatEveryMs);
  try {
    return await ssh.run(target, command, options);
  } catch (error) {
    if (error instanceof CommandAbortedError) throw error;
    if (error instanceof SshUnreachableError) throw ApplicationFailure.retryable(error.message, 'SshUnreachable');
    throw finalSshFailure(error) ?? error;
  } finally {
    clearInterval(beat);
  }
}

/** Cancellations that mean "stop the script": not a worker shutting down or an attempt timing out (its retry waits for the script). */
const STOPPING_REASONS = ['CANCELLED', 'NOT_FOUND'];

/**
 * A script on one node, at most once per activity (scriptMarker.ts): a retry waits for the run an
 * earlier attempt started and reports it. Cancelling the activity kills the script's process group
 * on the node; a script past its timeout is killed there too.
 */
async function runScriptOnce(ssh: SshRunner, request: { target: SshTarget; context: NodeContext; script: string; timeoutMs: number }): Promise<{ result: CommandResult; output: MarkedOutput }> {
  const info = activityInfo();
  const key = markerKey({ workflowId: info.workflowExecution?.workflowId ?? '', runId: info.workflowExecution?.runId ?? '', activityId: info.activityId, node: request.target.node });
  const kill = () => ssh.run(request.target, killCommand(key), { timeoutMs: 10_000 }).catch(() => undefined);
  const cancelled = Context.current().cancellationSignal;
  try {
    const result = await runOn(ssh, request.target, onceCommand(key, nodeEnv(request.context), request.timeoutMs, MAX_OUTPUT_BYTES), {
      timeoutMs: request.timeoutMs,
      stdin: request.script,
      // Room for the wrapper's lines and whatever the login's start files print before them.
      maxOutputBytes: MAX_OUTPUT_BYTES + 4096,
      signal: cancelled,
    });
    if (result.timedOut) await kill();
    return { result, output: parseMarkedOutput(result.stdout, result.stderr, MAX_OUTPUT_BYTES) };
  } catch (error) {
    if (!(error instanceof CommandAbortedError)) throw error;
    const reason = cancelled.reason instanceof Error ? cancelled.reason.message : String(cancelled.reason);
    if (STOPPING_REASONS.includes(reason)) await kill();
    throw new CancelledFailure(`script on ${request.target.node} cancelled (${reason})${STOPPING_REASONS.includes(reason) ? ': its processes there were stopped' : ''}`);
  }
}

/** The last `bytes` bytes of a text (a summary for a workflow payload). */
export function tailBytes(text: string, bytes = OUTPUT_TAIL_BYTES): string {
  const buffer = Buffer.from(text, 'utf8');
  return buffer.length <= bytes ? text : buffer.subarray(buffer.length - bytes).toString('utf8');
}

function describeExit(result: CommandResult): string {
  if (result.timedOut) return `timed out after ${result.durationMs} ms`;
  if (result.exitCode === null) return `ended by signal ${result.signal ?? 'unknown'}`;
  return `exited with ${result.exitCode}`;
}

export function createNodeScriptActivities(deps: { ssh: SshRunner; outputs: ScriptOutputStore; heartbeatEveryMs?: number }) {
  const { ssh, outputs } = deps;
  // Well inside the callers' 6 s heartbeat timeout: one SSH attempt alone may take 10 s.
  const heartbeatEveryMs = deps.heartbeatEveryMs ?? 1000;
  return {
    /**
     * Readiness is a real login that runs a command, not an open port 22 (PyScaler reported success
     * when its port probe timed out). Tries until the deadline, then fails with the last error.
     * Heartbeats all along, during each attempt and each pause, not only between attempts.
     */
    async waitSshLogin(request: { target: SshTarget; timeoutMs: number; pollMs: number }): Promise<{ loginMs: number; attempts: number; hostKeySha256: string }> {
      const { target } = request;
      const deadline = Date.now() + request.timeoutMs;
      const cancelled = Context.current().cancellationSignal;
      let lastError = '';
      let attempt = 1;
      const beat = setInterval(() => heartbeat({ attempt, lastError }), heartbeatEveryMs);
      try {
        for (; ; attempt++) {
          heartbeat({ attempt, lastError });
          try {
            const result = await ssh.run(target, 'true', { timeoutMs: Math.max(1000, Math.min(10_000, deadline - Date.now())) });
            if (result.exitCode === 0) return { loginMs: result.durationMs, attempts: attempt, hostKeySha256: result.hostKeySha256 };
            lastError = `logged in, but \`true\` ${describeExit(result)}`;
          } catch (error) {
            if (!(error instanceof SshUnreachableError)) throw finalSshFailure(error) ?? error;
            lastError = error.message;
          }
          if (Date.now() + request.pollMs >= deadline || cancelled.aborted) {
            throw ApplicationFailure.nonRetryable(
              `no SSH login to ${target.user}@${target.host}:${target.port} within ${request.timeoutMs} ms (${attempt} attempts); last error: ${lastError}`,
              'SshUnreachable',
            );
          }
          await sleep(request.pollMs);
        }
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * OSConfiguration: sends the manifest on stdin to a temporary file and runs `puppet apply
     * --detailed-exitcodes`: 0 (no change) and 2 (changed) succeed; 4 and 6 mean failed resources,
     * 1 a manifest that does not compile. Node facts are given as FACTER_fleet_* variables.
     */
    async applyPuppetManifest(request: { target: SshTarget; context: NodeContext; manifest: string; timeoutMs: number }) {
      const facts = Object.fromEntries(Object.entries(nodeEnv(request.context)).map(([k, v]) => [`FACTER_${k.toLowerCase()}`, v]));
      const command = [
        'f=$(mktemp /tmp/fleet-manifest-XXXXXX.pp) || exit 1',
        'cat > "$f"',
        `${envPrefix(facts)}puppet apply --detailed-exitcodes --color=false "$f"`,
        'rc=$?',
        'rm -f "$f"',
        'exit $rc',
      ].join('; ');
      const result = await runOn(ssh, request.target, command, { timeoutMs: request.timeoutMs, stdin: request.manifest }, heartbeatEveryMs);
      if (result.exitCode === 0 || result.exitCode === 2) return { changed: result.exitCode === 2, durationMs: result.durationMs, stdout: tail(result.stdout, 20) };
      const why =
        result.exitCode === 4 || result.exitCode === 6
          ? 'a resource failed'
          : result.exitCode === 1
            ? 'the manifest did not compile'
            : describeExit(result);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('Error:') && !line.includes('Facter:'));
      throw ApplicationFailure.nonRetryable(
        `puppet apply on ${request.context.node} failed (${why}, exit ${result.exitCode ?? 'none'}): ${tail(errors.join('\n') || result.stderr, 3)}`,
        'PuppetFailed',
        { exitCode: result.exitCode, stderr: tail(result.stderr, 20) },
      );
    },

    /** LocalScript: one node, the script on stdin of `sh -s`; a non-zero exit fails the step. */
    async runNodeScript(request: { target: SshTarget; context: NodeContext; script: string; timeoutMs: number }) {
      const { result: raw, output } = await runScriptOnce(ssh, request);
      const result = { ...raw, stdout: output.stdout, stderr: output.stderr };
      if (result.exitCode === 0) return { durationMs: result.durationMs, stdout: tail(result.stdout, 20) };
      throw ApplicationFailure.nonRetryable(
        `Script on ${request.context.node} ${describeExit(result)}: ${tail(result.stderr || result.stdout, 3)}`,
        'ScriptFailed',
        { exitCode: result.exitCode, stdout: tail(result.stdout, 20), stderr: tail(result.stderr, 20) },
      );
    },

    /**
     * DistributedScript's step on one node: every exit is a result; only an unreachable node throws.
     * The output goes to MySQL under the run's workflow ID; the result keeps byte counts and tails.
     */
    async runScriptOnNode(request: { target: SshTarget; context: NodeContext; script: string; timeoutMs: number }): Promise<NodeScriptResult> {
      const { result, output } = await runScriptOnce(ssh, request);
      await outputs.save(activityInfo().workflowExecution?.workflowId ?? '', request.target.node, output);
      return {
        node: request.target.node,
        outcome: result.timedOut ? 'timed-out' : result.exitCode === 0 ? 'succeeded' : 'failed',
        exitCode: result.exitCode,
        stdout: tailBytes(output.stdout),
        stderr: tailBytes(output.stderr),
        stdoutBytes: output.stdoutBytes,
        stderrBytes: output.stderrBytes,
        truncated: output.stdoutTruncated || output.stderrTruncated,
        durationMs: result.durationMs,
      };
    },
  };
}

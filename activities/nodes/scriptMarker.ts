// A remote script runs at most once per attempt key (workflow run, activity and node): the first
// attempt makes a marker directory on the node (mkdir is atomic) before the script starts, the
// script runs detached in a session of its own and writes its exit code and output files there when
// it ends. An attempt that finds the marker (a retry after a dropped connection, a worker that died)
// waits for the earlier run and reports its outcome instead of running the script again.
import { createHash } from 'node:crypto';
import { envPrefix, shellQuote } from './ssh.ts';
import type { ScriptOutput } from '../../db/scriptOutputs.ts';

/** Where the markers live on a node (under the login user's home; removed a week after use). */
export const MARKER_ROOT = '$HOME/.fleet-runs';
const MARKER_DAYS = 7;

/** Exit code of a marker that has no exit code and no running process: the earlier attempt died unrecorded. */
export const LOST_EXIT_CODE = 125;
export const LOST_MESSAGE = 'fleet-run: an earlier attempt started this script and ended without recording its exit code; not running it again';

/**
 * The wrapper's line before the script's stdout: the byte counts of its stdout and stderr. A line of
 * its own, found wherever it is: a login shell's start files may print before the wrapper runs (a
 * `pyenv rehash` racing another login prints `rm: cannot remove …` on stderr, for one).
 */
const SIZES_LINE = /(?:^|\n)fleet-run-sizes (\d+) (\d+)\n/;
/** The wrapper's line on stderr before the script's stderr: what came before it is the login's, not the script's. */
const STDERR_MARKER = 'fleet-run-stderr';

/** A directory name for one script run on one node: the same for every retry of the same activity. */
export function markerKey(parts: { workflowId: string; runId: string; activityId: string; node: string }): string {
  return createHash('sha256').update(JSON.stringify([parts.workflowId, parts.runId, parts.activityId, parts.node])).digest('hex').slice(0, 32);
}

/**
 * The command that runs the script on stdin once per key (or waits for the run that started it),
 * then prints `fleet-run-sizes <out> <err>`, the first `maxBytes + 1` bytes of the script's stdout
 * (and, after a `fleet-run-stderr` line, of its stderr, on stderr) and exits with the script's exit code.
 */
export function onceCommand(key: string, env: Record<string, string>, timeoutMs: number, maxBytes: number): string {
  const seconds = Math.ceil(timeoutMs / 1000) + 1;
  // The detached runner: its own session (pid = process group), stdin closed, output to files, the
  // exit code written to a temporary file and renamed, so `exit` is complete whenever it exists.
  const runner = `d=$1; shift; "$@" </dev/null >"$d/stdout" 2>"$d/stderr"; echo $? >"$d/exit.tmp" && mv "$d/exit.tmp" "$d/exit"`;
  return [
    `r="${MARKER_ROOT}"; d="$r/${key}"`,
    `mkdir -p "$r" || exit ${LOST_EXIT_CODE}`,
    `find "$r" -mindepth 1 -maxdepth 1 -mtime +${MARKER_DAYS} -exec rm -rf {} + 2>/dev/null`,
    `if mkdir "$d" 2>/dev/null; then`,
    `  cat >"$d/script" || exit ${LOST_EXIT_CODE}`,
    `  if command -v timeout >/dev/null 2>&1; then t="timeout -k 5 ${seconds}"; else t=""; fi`,
    `  setsid env ${envPrefix(env)}sh -c ${shellQuote(runner)} fleet-run "$d" $t sh "$d/script" </dev/null >/dev/null 2>&1 &`,
    `  echo $! >"$d/pid.tmp" && mv "$d/pid.tmp" "$d/pid"`,
    `else`,
    `  cat >/dev/null`,
    `fi`,
    `n=0`,
    `while [ ! -f "$d/exit" ]; do`,
    `  if [ -f "$d/pid" ]; then kill -0 "$(cat "$d/pid")" 2>/dev/null || [ -f "$d/exit" ] || { echo ${shellQuote(LOST_MESSAGE)} >&2; exit ${LOST_EXIT_CODE}; }`,
    `  else n=$((n+1)); [ $n -lt 50 ] || { echo ${shellQuote(LOST_MESSAGE)} >&2; exit ${LOST_EXIT_CODE}; }; fi`,
    `  sleep 0.2`,
    `done`,
    `echo "fleet-run-sizes $(wc -c <"$d/stdout" 2>/dev/null || echo 0) $(wc -c <"$d/stderr" 2>/dev/null || echo 0)"`,
    `echo ${STDERR_MARKER} >&2`,
    `head -c ${maxBytes + 1} "$d/stdout" 2>/dev/null; head -c ${maxBytes + 1} "$d/stderr" >&2 2>/dev/null`,
    `exit "$(cat "$d/exit")"`,
  ].join('\n');
}

/**
 * Stops the script of `key` on the node: TERM to every process of its session (timeout(1) moves the
 * script into a process group of its own, the session stays), KILL two seconds later.
 */
export function killCommand(key: string): string {
  return [
    `d="${MARKER_ROOT}/${key}"`,
    `[ -f "$d/pid" ] || exit 0`,
    `p=$(cat "$d/pid")`,
    `stop() { pkill "-$1" -s "$p" 2>/dev/null; kill "-$1" -- "-$p" 2>/dev/null; }`,
    `stop TERM`,
    `i=0; while pgrep -s "$p" >/dev/null 2>&1 && [ $i -lt 10 ]; do sleep 0.2; i=$((i+1)); done`,
    `stop KILL; exit 0`,
  ].join('\n');
}

/** A script's output as the node kept it, cut at the cap: what script_outputs stores. */
export type MarkedOutput = ScriptOutput;

/** Splits what onceCommand printed into the script's output, cut at `maxBytes`, with its true sizes. */
export function parseMarkedOutput(stdout: string, stderr: string, maxBytes: number): MarkedOutput {
  const sizes = SIZES_LINE.exec(stdout);
  const body = sizes ? stdout.slice(sizes.index + sizes[0].length) : stdout;
  const marker = sizes ? stderr.indexOf(`${STDERR_MARKER}\n`) : -1;
  const scriptStderr = marker >= 0 ? stderr.slice(marker + STDERR_MARKER.length + 1) : stderr;
  const cut = (text: string) => Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8');
  const stdoutBytes = sizes ? Number(sizes[1]) : Buffer.byteLength(body);
  const stderrBytes = sizes ? Number(sizes[2]) : Buffer.byteLength(scriptStderr);
  return { stdout: cut(body), stderr: cut(scriptStderr), stdoutBytes, stderrBytes, stdoutTruncated: stdoutBytes > maxBytes, stderrTruncated: stderrBytes > maxBytes };
}

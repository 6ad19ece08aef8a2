// When the supervisor restarts a process that exited, and when it gives up: pure functions of the
// crash times, so the policy is tested without processes or clocks.

export interface RestartPolicy {
  /** Restarts allowed within the window; one crash more stops the stack (SUPERVISOR_MAX_RESTARTS). */
  maxRestarts: number;
  /** How far back crashes count (SUPERVISOR_WINDOW_MINUTES, in ms). */
  windowMs: number;
  /** The delay before the first restart in the window; each further one doubles it… */
  initialDelayMs: number;
  /** …up to this. */
  maxDelayMs: number;
}

export const defaultBackoff = { initialDelayMs: 500, maxDelayMs: 10_000 } as const;

export type RestartDecision =
  | { restart: true; delayMs: number; restartNumber: number; crashes: number[] }
  | { restart: false; crashes: number[] };

/** The delay before restart number `restartNumber` (1, 2, …) of the window: exponential, capped. */
export function backoffDelayMs(restartNumber: number, policy: Pick<RestartPolicy, 'initialDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, restartNumber - 1));
}

/**
 * A process crashed at `now`, after `earlierCrashes`: restart it after a delay, or not once it has
 * crashed more than `maxRestarts` times within the window. `crashes` is the history to keep.
 */
export function decideRestart(earlierCrashes: readonly number[], now: number, policy: RestartPolicy): RestartDecision {
  const crashes = [...earlierCrashes.filter((at) => at > now - policy.windowMs), now];
  if (crashes.length > policy.maxRestarts) return { restart: false, crashes };
  return { restart: true, delayMs: backoffDelayMs(crashes.length, policy), restartNumber: crashes.length, crashes };
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;
const minutes = (ms: number) => `${Number((ms / 60_000).toFixed(1))} min`;

/** The one log line of a restart: `temporal exited (SIGKILL); restarting it in 0.5 s (restart 1 of 5 in 5 min)`. */
export function restartLine(name: string, exitCode: number | string, decision: Extract<RestartDecision, { restart: true }>, policy: RestartPolicy): string {
  return `${name} exited (${exitCode}); restarting it in ${seconds(decision.delayMs)} (restart ${decision.restartNumber} of ${policy.maxRestarts} in ${minutes(policy.windowMs)})`;
}

/** Why the stack stops: the process, how often it crashed, and the setting that allows more. */
export function givingUpMessage(name: string, exitCode: number | string, crashes: number, policy: RestartPolicy): string {
  return `${name} crashed ${crashes} times in ${minutes(policy.windowMs)} (last exit: ${exitCode}), more than SUPERVISOR_MAX_RESTARTS=${policy.maxRestarts} allows`;
}

// `npm start` as a child process (scripts/npmStart.ts), and waiting on what it prints.
import { vi } from 'vitest';
import { runStart, type Started } from '../../scripts/npmStart.ts';

export { runStart, type Started };

/** Waits until the output shows `text`; stops waiting when start exits, and then fails. */
export async function waitForOutput(started: Started, text: string, timeoutMs: number): Promise<void> {
  await vi.waitFor(() => {
    if (!started.output().includes(text) && started.child.exitCode === null) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${started.output()}`);
  }, { timeout: timeoutMs, interval: 100 });
  if (!started.output().includes(text)) throw new Error(`start exited early:\n${started.output()}`);
}

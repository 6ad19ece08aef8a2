// What `npm start`'s supervisor says about each process it runs (scripts/supervisor.ts writes it to
// <data dir>/supervisor.json), read by the API so /readyz and the Home page can show a dependency
// that is being restarted as such rather than merely down.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SUPERVISOR_STATUS_FILE = 'supervisor.json';

export type ProcessState = 'running' | 'restarting';

export interface ProcessStatus {
  state: ProcessState;
  /** Restarts since the stack started. */
  restarts: number;
  /** When it entered this state (ISO 8601). */
  since: string;
}

/** Process name (temporal, mariadb, worker-1, …) to its status. */
export type SupervisorStatus = Record<string, ProcessStatus>;

export function supervisorStatusPath(dataDir: string): string {
  return join(dataDir, SUPERVISOR_STATUS_FILE);
}

/**
 * Reads the status file at most once per `maxAgeMs` (readiness is polled often). No file, or one
 * being replaced, reads as no news: every process is taken as running.
 */
export function createSupervisorStatusReader(path: string, options: { maxAgeMs?: number; now?: () => number } = {}): () => Promise<SupervisorStatus> {
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const now = options.now ?? Date.now;
  let cached: { at: number; status: Promise<SupervisorStatus> } | undefined;
  return () => {
    if (!cached || now() - cached.at >= maxAgeMs) cached = { at: now(), status: readStatus(path) };
    return cached.status;
  };
}

async function readStatus(path: string): Promise<SupervisorStatus> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as SupervisorStatus) : {};
  } catch {
    return {};
  }
}

// Child processes of the local stack: one that never becomes healthy is not left running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostEnv } from '../../config.ts';
import { isAlive, startProcess, waitUntilHealthy } from '../../scripts/processes.ts';

const dir = mkdtempSync(join(tmpdir(), 'fleet-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('waitUntilHealthy', () => {
  it('stops a process that does not become healthy in time, so a failed (re)start leaks nothing', async () => {
    const server = startProcess({ name: 'never-healthy', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], logFile: join(dir, 'never-healthy.log'), env: hostEnv() });
    try {
      expect(isAlive(server.pid)).toBe(true);
      await expect(waitUntilHealthy('never-healthy', async () => false, { timeoutMs: 300, intervalMs: 50, process: server })).rejects.toThrow(
        /^never-healthy did not become healthy within 0\.3 s; see .*never-healthy\.log$/,
      );
      expect(server.hasExited()).toBe(true);
      expect(await server.exited).toBe('SIGTERM');
    } finally {
      await server.stop(1000);
    }
  });
});

// Child processes of the local stack: one that never becomes healthy is not left running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostEnv } from '../../config.ts';
import { findFreePort, isAlive, startProcess, waitUntilHealthy } from '../../scripts/processes.ts';

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

describe('findFreePort', () => {
  it('never gives one port twice while its lease lasts, and stays below the ephemeral range', async () => {
    // Picked one after another, as two test files' stacks pick theirs: with bind(0) and close, a few
    // of 300 picks came back twice (the kernel hands a just-closed port out again).
    const ports: number[] = [];
    try {
      for (let i = 0; i < 300; i++) ports.push(await findFreePort());
      expect(new Set(ports).size).toBe(300);
      expect(Math.max(...ports)).toBeLessThan(32_768);
      expect(Math.min(...ports)).toBeGreaterThanOrEqual(10_000);
    } finally {
      for (const port of ports) rmSync(join(tmpdir(), 'fleet-port-leases', String(port)), { recursive: true, force: true });
    }
  });
});

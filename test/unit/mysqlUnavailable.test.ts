// A MySQL that accepts connections and never answers (a hung server, a filtered port behind a
// proxy) is a prompt error naming MySQL, and the API's answer is a 503 in the one JSON error shape,
// not a request held until Node's own request timeout.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../config.ts';
import { createMysqlPool, MysqlUnavailableError } from '../../db/clients.ts';
import { stubApp } from './support/stubApp.ts';

let silent: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  silent = createServer((socket) => {
    sockets.add(socket); // accepted, and never a byte back
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

function silentMysql(overrides: Partial<Config['mysql']> = {}) {
  const { port } = silent.address() as { port: number };
  const mysql: Config['mysql'] = { host: '127.0.0.1', port, user: 'fleet', password: 'unused', database: 'fleet', connectTimeoutMs: 500, queryTimeoutMs: 500, queueLimit: 10, ...overrides };
  return createMysqlPool({ mysql }, { connectionLimit: 1 });
}

async function timed<T>(work: Promise<T>): Promise<{ outcome: unknown; ms: number }> {
  const started = performance.now();
  const outcome = await work.catch((error: unknown) => error);
  return { outcome, ms: performance.now() - started };
}

describe('MySQL that never answers', () => {
  it('fails a query within its timeout, as MySQL unavailable', async () => {
    const pool = silentMysql();
    try {
      const { outcome, ms } = await timed(pool.query('SELECT 1'));
      expect(outcome).toBeInstanceOf(MysqlUnavailableError);
      expect((outcome as Error).message).toMatch(/^MySQL is unavailable: .*ETIMEDOUT/);
      expect(ms).toBeLessThan(2000);
    } finally {
      await pool.end().catch(() => {});
    }
  });

  it('refuses queries past the queue limit at once, without waiting for a connection', async () => {
    const pool = silentMysql({ connectTimeoutMs: 800, queueLimit: 2 });
    try {
      const waiting = [1, 2, 3].map(() => pool.query('SELECT 1').catch((error: unknown) => error)); // one connecting, two queued
      const { outcome, ms } = await timed(pool.query('SELECT 1'));
      expect(outcome).toBeInstanceOf(MysqlUnavailableError);
      expect((outcome as Error).message).toContain('too many queries are waiting for a connection');
      expect(ms).toBeLessThan(200);
      for (const error of await Promise.all(waiting)) expect(error).toBeInstanceOf(MysqlUnavailableError);
    } finally {
      await pool.end().catch(() => {});
    }
  });

  it('makes the API answer 503 mysql_unavailable promptly', async () => {
    const pool = silentMysql();
    try {
      const { app } = stubApp({ mysql: pool });
      const { outcome, ms } = await timed(Promise.resolve(app.request('/api/request-runs')));
      const response = outcome as Response;
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error).toMatchObject({ code: 'mysql_unavailable', message: expect.stringMatching(/^MySQL is unavailable/) });
      expect(ms).toBeLessThan(2000);
    } finally {
      await pool.end().catch(() => {});
    }
  });
});

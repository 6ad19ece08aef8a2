// etcd past its space quota (a private etcd started as the stack starts it, with a tiny
// ETCD_QUOTA_BYTES): it raises NOSPACE, the /readyz probe reports it, and a config write is a 507.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { hostEnv } from '../config.ts';
import { createConfigCacheEtcdClient, createEtcdClient, type ServiceClients } from '../db/clients.ts';
import { createDependencyProbes } from '../db/health.ts';
import { ConfigCache } from '../services/configCache.ts';
import { ServiceError } from '../services/errors.ts';
import { findFreePort, type ManagedProcess } from '../scripts/processes.ts';
import { startEtcd } from '../scripts/services.ts';
import { testConfig } from './support/stack.ts';

describe('etcd past its space quota (its own etcd)', () => {
  let dataDir: string;
  let etcdServer: ManagedProcess;
  /** The config cache's client writes; the services' client (as /readyz's) only probes. */
  let etcd: Etcd3;
  let probeClient: Etcd3;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'etcd-quota-'));
    const [port, peerPort] = [await findFreePort(), await findFreePort()];
    const config = testConfig({ ETCD_PORT: String(port), ETCD_PEER_PORT: String(peerPort), FLEET_DATA_DIR: dataDir, ETCD_QUOTA_BYTES: String(256 * 1024) });
    etcdServer = await startEtcd(config, hostEnv());
    etcd = createConfigCacheEtcdClient(config);
    probeClient = createEtcdClient(config);
  });
  afterAll(async () => {
    etcd?.close();
    probeClient?.close();
    await etcdServer?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is ready until the quota is reached; then /readyz reports the NOSPACE alarm and a config PUT is 507 naming ETCD_QUOTA_BYTES', async () => {
    const probe = createDependencyProbes({ etcd: probeClient } as ServiceClients).etcd;
    expect(await probe(2000)).toMatchObject({ ok: true, detail: expect.stringMatching(/^etcd 3\./) });

    const value = JSON.stringify('x'.repeat(32 * 1024));
    let refusal: unknown;
    for (let i = 0; i < 200 && refusal === undefined; i++) {
      await etcd.put(`/fill/${i}`).value(value).exec().catch((error: unknown) => (refusal = error));
    }
    expect(String(refusal)).toMatch(/database space exceeded/);

    const result = await probe(2000);
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^etcd alarm active: NOSPACE \(member \d+\): etcd is over its space quota \(ETCD_QUOTA_BYTES\)/);

    // Every write is refused the same way (no breaker opens on it), and reads still answer.
    const cache = new ConfigCache({ etcd, keyPrefix: '/config/', instance: 'quota' });
    for (const key of ['a', 'b', 'c', 'd']) {
      const refused = await cache.put(key, '1').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ServiceError);
      expect(refused).toMatchObject({ status: 507, code: 'insufficient_storage', details: { setting: 'ETCD_QUOTA_BYTES' } });
    }
    expect(await cache.get('a', { useCache: false })).toEqual({ json: null, source: 'etcd' });
    await cache.close();
  });
});

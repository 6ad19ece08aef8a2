import { describe, expect, it } from 'vitest';
import { ConfigError, configToEnv, loadConfig } from '../config.ts';

describe('configuration', () => {
  it('defaults to the documented laptop addresses', () => {
    const config = loadConfig({});
    expect(config.api).toEqual({ host: '127.0.0.1', port: 3000, instances: 2 });
    expect(config.requestRuns.allowedDestinations).toEqual(['http://127.0.0.1:3000/receiver']);
    expect(config.cpuLoad.loadWorkers).toBe(2);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.temporal.namespace).toBe('default');
    expect(config.temporal.webUiUrl).toBe('http://127.0.0.1:8233');
    expect(config.temporal.runLocalServer).toBe(true);
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('reads Temporal connection settings the way the Temporal CLI and SDKs do', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: 'prod.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'fleet.a1b2', TEMPORAL_API_KEY: 'k' });
    expect(config.temporal.address).toBe('prod.tmprl.cloud:7233');
    expect(config.temporal.namespace).toBe('fleet.a1b2');
    expect(config.temporal.connect.connectionOptions.apiKey).toBe('k');
    // A remote, secured cluster is used as it is: no local dev server.
    expect(config.temporal.runLocalServer).toBe(false);
  });

  it.each([
    ['API_PORT', 'abc', /API_PORT="abc" is not a TCP port/],
    ['MYSQL_PORT', '70000', /MYSQL_PORT="70000" is not a TCP port/],
    ['FLEET_LOCAL_SERVICES', 'maybe', /FLEET_LOCAL_SERVICES="maybe" is not a yes\/no setting/],
    ['TEMPORAL_ADDRESS', 'no-port-here', /TEMPORAL_ADDRESS="no-port-here" must look like host:port/],
  ])('rejects %s=%s with a message naming the setting', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('round-trips through the environment handed to child processes', () => {
    const config = loadConfig({ API_PORT: '3100', ETCD_PORT: '2479', MYSQL_DATABASE: 'other' });
    expect(loadConfig(configToEnv(config))).toEqual(config);
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.ts';

describe('configuration', () => {
  it('defaults to the documented laptop addresses', () => {
    const config = loadConfig({});
    expect(config.api).toEqual({ host: '127.0.0.1', port: 3000, instances: 1, dataPlaneOpen: true, allowedHosts: [] });
    expect(loadConfig({ API_INSTANCES: '4' }).api.instances).toBe(4);
    expect(config.requestRuns.allowedDestinations).toEqual(['http://127.0.0.1:3000/receiver']);
    expect(config.cpuLoad.loadWorkers).toBe(2);
    expect(config.fractals).toMatchObject({ workers: 1, renderIdleMs: 30_000 });
    expect(loadConfig({ FRACTAL_WORKERS: '3', FRACTAL_RENDER_IDLE_SECONDS: '2' }).fractals).toMatchObject({ workers: 3, renderIdleMs: 2000 });
    expect(() => loadConfig({ FRACTAL_RENDER_IDLE_SECONDS: '0.5' })).toThrow(/^FRACTAL_RENDER_IDLE_SECONDS="0\.5" is not a count/);
    expect(config.temporal.address).toBe('127.0.0.1:7233');
    expect(config.temporal.namespace).toBe('default');
    expect(config.temporal.webUiUrl).toBe('http://127.0.0.1:8233');
    expect(config.temporal.runLocalServer).toBe(true);
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('opens the data plane on loopback only, refusing it on a network address, and takes more host names', () => {
    expect(loadConfig({ API_HOST: '0.0.0.0' }).api).toMatchObject({ dataPlaneOpen: false, allowedHosts: [] });
    expect(() => loadConfig({ API_HOST: '0.0.0.0', DATA_PLANE_OPEN: 'true' })).toThrow(/^DATA_PLANE_OPEN=true with API_HOST=0\.0\.0\.0: /);
    expect(loadConfig({ API_HOST: '127.0.0.2', DATA_PLANE_OPEN: 'false' }).api.dataPlaneOpen).toBe(false);
    expect(loadConfig({ API_ALLOWED_HOSTS: 'Fleet.Example.com, 10.0.0.5' }).api.allowedHosts).toEqual(['fleet.example.com', '10.0.0.5']);
    expect(() => loadConfig({ API_ALLOWED_HOSTS: 'http://x/' })).toThrow(/^API_ALLOWED_HOSTS has "http:\/\/x\/", which is not a host name/);
    expect(loadConfig({ SESSION_IDLE_MINUTES: '5', SESSION_MAX_HOURS: '1' }).access).toEqual({ sessionIdleMs: 300_000, sessionMaxMs: 3_600_000 });
  });

  it('points Cloud Foundry at the simulator it starts, with its built-in user, unless CF_API_URL names another API', () => {
    expect(loadConfig({}).cf).toMatchObject({
      apiUrl: 'http://127.0.0.1:9022',
      username: 'admin',
      password: 'admin-secret',
      clientId: undefined,
      clientSecret: undefined,
      appsDomain: 'apps.cf.test',
      simulator: { host: '127.0.0.1', port: 9022, run: true },
    });
    expect(loadConfig({ CF_SIM_PORT: '9100' }).cf.apiUrl).toBe('http://127.0.0.1:9100');
    const real = loadConfig({ CF_API_URL: 'https://api.sys.example.com/', CF_CLIENT_ID: 'fleet', CF_CLIENT_SECRET: 's' }).cf;
    expect(real).toMatchObject({ apiUrl: 'https://api.sys.example.com', clientId: 'fleet', clientSecret: 's', simulator: { run: false } });
  });

  it('points nodes at moto, the local sshd and the SMTP sink by default, and at AWS and real hosts when told', () => {
    const local = loadConfig({});
    expect(local.aws).toMatchObject({ region: 'us-east-1', endpoint: 'http://127.0.0.1:5055', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, moto: { port: 5055, run: true } });
    expect(local.ssh.endpoints).toBe('local-sshd');
    expect(local.ssh.sshd).toMatchObject({ port: 2222, run: true });
    expect(local.ssh.sshd.addresses).toHaveLength(16);
    expect(local.ssh.keysDir).toMatch(/\.data\/ssh\/keys$/);
    expect(local.smtp).toMatchObject({ host: '127.0.0.1', port: 2525, user: undefined, password: undefined, sink: { run: true, httpPort: 2526 } });
    const real = loadConfig({ FLEET_AWS_ENDPOINT: 'aws', AWS_REGION: 'eu-west-1', SMTP_HOST: 'smtp.example.com', SMTP_PORT: '587', SMTP_USER: 'fleet', SMTP_PASSWORD: 'pw' });
    expect(real.aws).toMatchObject({ region: 'eu-west-1', endpoint: undefined, credentials: undefined, moto: { run: false } });
    expect(real.ssh).toMatchObject({ endpoints: 'private-ip', sshd: { run: false } });
    expect(real.smtp).toMatchObject({ host: 'smtp.example.com', port: 587, user: 'fleet', password: 'pw', sink: { run: false } });
    expect(loadConfig(real.env)).toEqual(real);
    expect(loadConfig(local.env)).toEqual(local);
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
    ['CF_SIM_PORT', '0', /CF_SIM_PORT="0" is not a TCP port/],
    ['CF_API_URL', 'api.example.com', /CF_API_URL="api.example.com" is not an http\(s\) URL/],
    ['CF_SIM', 'perhaps', /CF_SIM="perhaps" is not a yes\/no setting/],
    ['FLEET_AWS_ENDPOINT', 'ec2.local', /FLEET_AWS_ENDPOINT="ec2.local" is not an http\(s\) URL/],
    ['SSH_ENDPOINTS', 'magic', /SSH_ENDPOINTS="magic" is not one of local-sshd, private-ip, public-ip, public-dns/],
    ['SSHD_ADDRESSES', '17', /SSHD_ADDRESSES="17" is not a count: use a whole number from 0 to 16/],
    ['SMTP_PORT', 'x', /SMTP_PORT="x" is not a TCP port/],
  ])('rejects %s=%s with a message naming the setting', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('hands child processes the environment it was read from, so they read the same settings', () => {
    const config = loadConfig({ API_PORT: '3100', ETCD_PORT: '2479', MYSQL_DATABASE: 'other' });
    expect(loadConfig(config.env)).toEqual(config);
    const cf = loadConfig({ CF_SIM_PORT: '9100', CF_USERNAME: 'ops', CF_PASSWORD: 'p', CF_CLIENT_ID: 'c', CF_CLIENT_SECRET: 'cs', CF_APPS_DOMAIN: 'apps.example.com' });
    expect(loadConfig(cf.env)).toEqual(cf);
  });

  it('sets up the config cache: the seed’s key prefix, a value limit, and optional per-instance ports', () => {
    expect(loadConfig({}).configCache).toEqual({ keyPrefix: '/fleet/config/', maxValueBytes: 65536, maxKeys: 100_000, maxTotalBytes: 64 * 1024 * 1024, instanceBasePort: undefined });
    expect(loadConfig({}).etcd.quotaBytes).toBe(512 * 1024 * 1024);
    expect(loadConfig({ ETCD_QUOTA_BYTES: '1048576' }).etcd.quotaBytes).toBe(1048576);
    expect(loadConfig({ USER_KEY_PREFIX: '/student-1234/' }).configCache.keyPrefix).toBe('/student-1234/');
    expect(loadConfig({ USER_KEY_PREFIX: '/seed/', CONFIG_CACHE_KEY_PREFIX: '/ours/' }).configCache.keyPrefix).toBe('/ours/');
    expect(() => loadConfig({ CONFIG_CACHE_INSTANCE_BASE_PORT: '65500', API_INSTANCES: '64' })).toThrow(/leaves no room for 64 instance ports/);
    expect(() => loadConfig({ CONFIG_CACHE_MAX_VALUE_BYTES: '2000000' })).toThrow(/CONFIG_CACHE_MAX_VALUE_BYTES="2000000" is not a count/);
    const config = loadConfig({ CONFIG_CACHE_KEY_PREFIX: '/x/', CONFIG_CACHE_MAX_VALUE_BYTES: '1024', CONFIG_CACHE_MAX_KEYS: '10', CONFIG_CACHE_MAX_TOTAL_BYTES: '4096', CONFIG_CACHE_INSTANCE_BASE_PORT: '4100', API_INSTANCES: '8' });
    expect(config.configCache).toEqual({ keyPrefix: '/x/', maxValueBytes: 1024, maxKeys: 10, maxTotalBytes: 4096, instanceBasePort: 4100 });
    expect(loadConfig(config.env)).toEqual(config);
  });

  it('lets the supervisor restart a process 5 times in 5 minutes by default, both settable', () => {
    expect(loadConfig({}).supervisor).toEqual({ maxRestarts: 5, windowMs: 300_000 });
    expect(loadConfig({ SUPERVISOR_MAX_RESTARTS: '0', SUPERVISOR_WINDOW_MINUTES: '30' }).supervisor).toEqual({ maxRestarts: 0, windowMs: 1_800_000 });
    expect(() => loadConfig({ SUPERVISOR_MAX_RESTARTS: 'many' })).toThrow(/^SUPERVISOR_MAX_RESTARTS="many" is not a count/);
  });

  it('lets http counters call loopback hosts only by default, and the hosts COUNTER_ALLOWED_HOSTS lists instead', () => {
    expect(loadConfig({}).counters.allowedHosts).toEqual(['127.0.0.1', 'localhost', '::1']);
    expect(loadConfig({ COUNTER_ALLOWED_HOSTS: 'Metrics.Example.com, [::1], 10.0.0.5' }).counters.allowedHosts).toEqual(['metrics.example.com', '::1', '10.0.0.5']);
    expect(() => loadConfig({ COUNTER_ALLOWED_HOSTS: 'http://x' })).toThrow(/^COUNTER_ALLOWED_HOSTS has "http:\/\/x", which is not a host name/);
  });

  it('bounds a CPU load to 1 h and ends idle targets after 1 h by default, both settable up to 7 days', () => {
    expect(loadConfig({}).cpuLoad).toEqual({ loadWorkers: 2, maxTtlMs: 3_600_000, idleMs: 3_600_000 });
    expect(loadConfig({ CPU_LOAD_MAX_TTL_MINUTES: '15', CPU_LOAD_IDLE_MINUTES: '5' }).cpuLoad).toMatchObject({ maxTtlMs: 900_000, idleMs: 300_000 });
    expect(() => loadConfig({ CPU_LOAD_MAX_TTL_MINUTES: '10081' })).toThrow(/^CPU_LOAD_MAX_TTL_MINUTES="10081" is not a count: use a whole number from 0 to 10080/);
  });

  it('keeps counter samples 7 days by default, settable from 1 to 3650', () => {
    expect(loadConfig({}).counters.retentionDays).toBe(7);
    expect(loadConfig({ COUNTER_RETENTION_DAYS: '30' }).counters.retentionDays).toBe(30);
    expect(loadConfig({ COUNTER_RETENTION_DAYS: '0' }).counters.retentionDays).toBe(1);
    expect(() => loadConfig({ COUNTER_RETENTION_DAYS: '7.5' })).toThrow(/^COUNTER_RETENTION_DAYS="7.5" is not a count/);
  });
});

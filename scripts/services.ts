// memcached and etcd from Debian's packages (MariaDB has scripts/mariadb.ts), each a child process
// with its data under the data dir and its log under logs/, health-checked before anything that
// needs it starts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { dirname, join } from 'node:path';
import type { Config, HostEnv } from '../config.ts';
import { findOnPath } from './temporalCli.ts';
import { StackError, startProcess, waitUntilHealthy, type ManagedProcess } from './processes.ts';
import { startNodeProcess } from './compiled.ts';
import { ensureMotoBucket, ensureMotoTargetGroup, motoImages } from './motoResources.ts';
import { LOCAL_SSH_KEY } from '../activities/nodes/localSshKey.ts';

export const runningAsRoot = process.getuid?.() === 0;

export function requireBinary(hostEnv: HostEnv, names: string[], debianPackage: string): string {
  const path = `${hostEnv.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`;
  for (const name of names) {
    const found = findOnPath(name, path);
    if (found) return found;
  }
  throw new StackError(`${names[0]} is not installed: run \`npm run setup\` (installs the Debian package ${debianPackage}).`);
}

export async function startMemcached(config: Config, hostEnv: HostEnv): Promise<ManagedProcess> {
  const memcached = requireBinary(hostEnv, ['memcached'], 'memcached');
  const server = startProcess({
    name: 'memcached',
    command: memcached,
    args: ['-l', config.memcached.host, '-p', String(config.memcached.port), '-U', '0', '-m', '64', '-c', '4096', ...(runningAsRoot ? ['-u', 'root'] : [])],
    logFile: join(config.logDir, 'memcached.log'),
    env: hostEnv,
  });
  await waitUntilHealthy('memcached', () => memcachedAnswers(config.memcached.host, config.memcached.port), { timeoutMs: 20_000, process: server });
  return server;
}

/** memcached's text protocol `version` command: the cheapest proof that it serves requests. */
export function memcachedAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port });
    socket.setTimeout(1000, () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write('version\r\n'));
    socket.once('data', (data) => {
      socket.end();
      resolve(data.toString().startsWith('VERSION'));
    });
  });
}

export async function startEtcd(config: Config, hostEnv: HostEnv): Promise<ManagedProcess> {
  const etcd = requireBinary(hostEnv, ['etcd'], 'etcd-server');
  const { host, port, peerPort } = config.etcd;
  const clientUrl = `http://${host}:${port}`;
  const peerUrl = `http://${host}:${peerPort}`;
  const server = startProcess({
    name: 'etcd',
    command: etcd,
    args: [
      '--name', 'fleet',
      '--data-dir', join(config.dataDir, 'etcd'),
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `fleet=${peerUrl}`,
      // Without compaction, history grows until the quota; past the quota etcd raises NOSPACE (see /readyz).
      '--auto-compaction-mode', 'periodic',
      '--auto-compaction-retention', '1h',
      '--quota-backend-bytes', String(config.etcd.quotaBytes),
      // One member: no peer to wait for. etcd elects itself only after an election timeout (1 s by
      // default, 1.0–1.5 s to ready at a restart); 200 ms makes it ready in about 0.25 s, and the
      // 20 ms heartbeat ticks cost about 0.5 % of a core more when idle than the default 100 ms.
      '--heartbeat-interval', '20',
      '--election-timeout', '200',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ],
    logFile: join(config.logDir, 'etcd.log'),
    env: hostEnv,
  });
  await waitUntilHealthy('etcd', () => etcdHealthy(clientUrl), { timeoutMs: 30_000, process: server });
  return server;
}

export async function etcdHealthy(clientUrl: string): Promise<boolean> {
  const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { health?: string };
  return response.ok && body.health === 'true';
}

/**
 * The simulators' process (sim/main.ts): the Cloud Controller v3 + UAA simulator, healthy once GET /
 * lists the v3 API, and the SMTP sink, healthy once its mailbox answers over HTTP; each when its
 * setting asks for it.
 */
export async function startSimulators(config: Config, buildDir: string): Promise<ManagedProcess> {
  const server = startNodeProcess('simulators', 'sim/main.ts', config, config.env, buildDir);
  const { host, port } = config.cf.simulator;
  const mailbox = `http://${config.smtp.host}:${config.smtp.sink.httpPort}/healthz`;
  await Promise.all([
    config.cf.simulator.run && waitUntilHealthy('The CF simulator', () => cfSimulatorAnswers(`http://${host}:${port}`), { timeoutMs: 30_000, process: server }),
    config.smtp.sink.run && waitUntilHealthy('The SMTP sink', async () => (await fetch(mailbox, { signal: AbortSignal.timeout(1000) })).ok, { timeoutMs: 30_000, process: server }),
  ]);
  return server;
}

async function cfSimulatorAnswers(url: string): Promise<boolean> {
  const response = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
  const body = (await response.json()) as { links?: { cloud_controller_v3?: unknown } };
  return response.ok && Boolean(body.links?.cloud_controller_v3);
}

/** moto's server: the local EC2 and ELBv2 endpoint. Its state lives in memory only. */
export async function startMoto(config: Config, hostEnv: HostEnv): Promise<ManagedProcess> {
  const motoServer = requireBinary(hostEnv, ['moto_server'], 'python3-pip (then `pip install "moto[server]"`)');
  const { host, port } = config.aws.moto;
  const imagesFile = join(config.dataDir, 'moto-images.json');
  writeFileSync(imagesFile, JSON.stringify(motoImages));
  const server = startProcess({
    name: 'moto',
    command: motoServer,
    args: ['-H', host, '-p', String(port)],
    logFile: join(config.logDir, 'moto.log'),
    // werkzeug serves each request on a thread of its own; glibc's default of 8 malloc arenas per
    // core keeps memory each of them once used. Two are enough here, and memory freed above 64 KB goes
    // back to the system (193 → 169 MB once moto has answered its first EC2 call).
    env: { ...hostEnv, MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '65536', MOTO_AMIS_PATH: imagesFile },
  });
  await waitUntilHealthy('moto_server', async () => (await fetch(`http://${host}:${port}/moto-api/`, { signal: AbortSignal.timeout(1000) })).ok, {
    timeoutMs: 30_000,
    process: server,
  });
  // moto forgets everything at a restart: the local target group and the fractals' bucket are made
  // again at once, while the other services start (moto builds its EC2 region lazily, which takes a
  // second or two). Fractal workers that outlive a moto restart then find their bucket again.
  const endpoint = `http://${host}:${port}`;
  const { storage } = config.fractals;
  await Promise.all([
    ensureMotoTargetGroup(endpoint, config.aws.region),
    storage.createBucket && storage.endpoint === endpoint ? ensureMotoBucket(endpoint, storage.region, storage.bucket) : undefined,
  ]);
  return server;
}

function sshKeygen(hostEnv: HostEnv, path: string, comment: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const keygen = requireBinary(hostEnv, ['ssh-keygen'], 'openssh-client');
  const result = spawnSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { env: hostEnv, encoding: 'utf8' });
  if (result.status !== 0) throw new StackError(`ssh-keygen failed: ${(result.stderr || result.stdout).trim()}`);
}

/**
 * A local OpenSSH sshd standing in for every instance: its own config, host key and authorized
 * keys under the data dir, key-only login, listening on the loopback addresses nodes are mapped to.
 * The stack's own client key (SSH_KEYS_DIR/local-ed25519) is the one it authorizes.
 */
export async function startSshd(config: Config, hostEnv: HostEnv): Promise<ManagedProcess> {
  const sshd = requireBinary(hostEnv, ['sshd'], 'openssh-server');
  const dir = join(config.dataDir, 'sshd');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  sshKeygen(hostEnv, hostKey, 'fleet-local-sshd');
  const clientKey = join(config.ssh.keysDir, LOCAL_SSH_KEY);
  sshKeygen(hostEnv, clientKey, 'fleet-runbooks');
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  // sshd refuses to start without its privilege-separation directory (normally made by systemd).
  if (runningAsRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const { port, addresses } = config.ssh.sshd;
  const sshdConfig = join(dir, 'sshd_config');
  writeFileSync(
    sshdConfig,
    [
      '# Written by fleet-runbooks at every start: the local sshd that stands in for instances.',
      ...addresses.map((address) => `ListenAddress ${address}:${port}`),
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      // The data dir may sit under /tmp (tests): its modes are not a user's home directory's.
      'StrictModes no',
      'UseDNS no',
      'PrintMotd no',
      // Many nodes are one sshd here: let a DistributedScript's parallel logins through.
      'MaxStartups 200:30:400',
      'MaxSessions 100',
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const server = startProcess({
    name: 'sshd',
    command: sshd,
    args: ['-D', '-e', '-f', sshdConfig],
    logFile: join(config.logDir, 'sshd.log'),
    env: hostEnv,
  });
  await waitUntilHealthy('sshd', () => sshBannerAnswers(addresses[0]!, port), { timeoutMs: 20_000, process: server });
  return server;
}

/** An SSH server greets first with `SSH-2.0-…`: the health check of the local sshd (logins are the activity's). */
function sshBannerAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host, port });
    socket.setTimeout(1000, () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('SSH-2.0'));
    });
  });
}


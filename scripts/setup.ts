// Installs what the stack needs and is missing: Debian packages (MariaDB, memcached, etcd, and
// Chromium for browser tests) and the Temporal CLI; for the unit tests, Java and Temporal's
// time-skipping test server. `npm run setup`; also run by start and test.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { ConfigError, type Config, type HostEnv } from '../config.ts';
import { ensureTemporalCli, findOnPath } from './temporalCli.ts';
import { ensureTemporalTestServer, locateTemporalTestServer } from './temporalTestServer.ts';
import { StackError } from './processes.ts';

interface SystemPackage {
  /** Any of these binaries on PATH means the package is there. */
  binaries: string[];
  debianPackage: string;
  purpose: string;
}

export const servicePackages: SystemPackage[] = [
  { binaries: ['mariadbd', 'mysqld'], debianPackage: 'mariadb-server', purpose: 'MySQL (MariaDB)' },
  { binaries: ['memcached'], debianPackage: 'memcached', purpose: 'memcached' },
  { binaries: ['etcd'], debianPackage: 'etcd-server', purpose: 'etcd' },
];

/** The local stand-ins for instances: OpenSSH's sshd, and Puppet for `puppet apply` on them. */
export const nodePackages: SystemPackage[] = [
  { binaries: ['sshd'], debianPackage: 'openssh-server', purpose: 'the local sshd that stands in for instances' },
  { binaries: ['ssh-keygen'], debianPackage: 'openssh-client', purpose: 'SSH keys for the local sshd' },
  { binaries: ['puppet'], debianPackage: 'puppet', purpose: 'puppet apply on nodes' },
];

export const browserPackages: SystemPackage[] = [{ binaries: ['chromium'], debianPackage: 'chromium', purpose: 'browser tests' }];

/** Java runs Temporal's test server (the unit tests' workflows); Maven fetches it once. */
export const testServerPackages = {
  java: { binaries: ['java'], debianPackage: 'default-jre-headless', purpose: "Temporal's test server for the unit tests" },
  maven: { binaries: ['mvn'], debianPackage: 'maven', purpose: "fetching Temporal's test server" },
} satisfies Record<string, SystemPackage>;

function searchPath(env: HostEnv): string {
  return `${env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`;
}

export function missingPackages(packages: SystemPackage[], env: HostEnv): SystemPackage[] {
  return packages.filter((p) => !p.binaries.some((b) => findOnPath(b, searchPath(env))));
}

function run(command: string, args: string[], env: HostEnv): number {
  return spawnSync(command, args, { stdio: 'inherit', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } }).status ?? 1;
}

/**
 * apt-get install, without letting the packages start their own system services: the stack runs
 * these servers itself, under .data/, and a system MariaDB on 3306 would take our port.
 */
export function installDebianPackages(packages: SystemPackage[], env: HostEnv, log: (line: string) => void): void {
  if (packages.length === 0) return;
  const names = packages.map((p) => p.debianPackage);
  if (!findOnPath('apt-get', searchPath(env))) {
    throw new StackError(`Missing ${names.join(', ')} and apt-get is not available: install them with your package manager.`);
  }
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : ['sudo', '-n'];
  if (!asRoot && !findOnPath('sudo', searchPath(env))) {
    throw new StackError(`Missing ${names.join(', ')}: run \`sudo apt-get install ${names.join(' ')}\` (this user cannot install packages).`);
  }
  log(`Installing Debian packages: ${names.join(', ')}…`);
  const policyFile = '/usr/sbin/policy-rc.d';
  const ownPolicy = asRoot && !existsSync(policyFile);
  if (ownPolicy) writeFileSync(policyFile, '#!/bin/sh\n# written by fleet-runbooks setup: do not start services on install\nexit 101\n', { mode: 0o755 });
  try {
    const aptGet = (...args: string[]) => (asRoot ? run('apt-get', args, env) : run(sudo[0]!, [...sudo.slice(1), 'apt-get', ...args], env));
    if (aptGet('install', '-y', '-q', '--no-install-recommends', ...names) !== 0) {
      if (aptGet('update', '-q') !== 0 || aptGet('install', '-y', '-q', '--no-install-recommends', ...names) !== 0) {
        throw new StackError(`apt-get could not install ${names.join(', ')}; check that Debian's package mirror is reachable.`);
      }
    }
  } finally {
    if (ownPolicy) rmSync(policyFile, { force: true });
  }
  const stillMissing = missingPackages(packages, env);
  if (stillMissing.length > 0) throw new StackError(`Installed, but still missing: ${stillMissing.map((p) => p.binaries[0]).join(', ')}.`);
}

export interface SetupOptions {
  /** Chromium, for the browser tests. */
  browser: boolean;
  /** Temporal's time-skipping test server (and Java), for the unit tests. */
  testServer?: boolean;
}

export async function setup(config: Config, env: HostEnv, options: SetupOptions, log: (line: string) => void): Promise<void> {
  const wanted = [
    ...(config.runLocalServices ? servicePackages : []),
    ...(config.ssh.sshd.run ? nodePackages : []),
    ...(options.browser ? browserPackages : []),
    ...(options.testServer ? [testServerPackages.java, ...(locateTemporalTestServer(config) ? [] : [testServerPackages.maven])] : []),
  ];
  installDebianPackages(missingPackages(wanted, env), env, log);
  if (config.aws.moto.run) ensureMotoServer(env, log);
  if (config.temporal.runLocalServer) await ensureTemporalCli(config, env, log);
  if (options.testServer) await ensureTemporalTestServer(config, log, env);
}

export const MOTO_VERSION = '5.2.1';

/** moto's server is the local EC2/ELBv2 endpoint; it comes from PyPI when the image lacks it. */
export function ensureMotoServer(env: HostEnv, log: (line: string) => void): void {
  if (findOnPath('moto_server', searchPath(env))) return;
  const python = ['python3', 'python'].find((name) => findOnPath(name, searchPath(env)));
  if (!python) throw new StackError('moto_server is missing and so is Python: install Python 3, then `pip install "moto[server]"`.');
  log(`Installing moto[server]==${MOTO_VERSION} from PyPI…`);
  if (run(python, ['-m', 'pip', 'install', '-q', `moto[server]==${MOTO_VERSION}`], env) !== 0) {
    throw new StackError(`pip could not install moto[server]==${MOTO_VERSION}; check that PyPI is reachable.`);
  }
  if (!findOnPath('moto_server', searchPath(env))) throw new StackError('moto[server] is installed but moto_server is not on PATH: add pip\'s script directory to PATH.');
}

export function reportFatal(error: unknown): never {
  if (error instanceof StackError || error instanceof ConfigError) console.error(`error: ${error.message}`);
  else console.error(error);
  process.exit(1);
}

// The Temporal Java SDK's time-skipping test server, for the unit tier's
// TestWorkflowEnvironment.createTimeSkipping(). The SDK would download a native build of it at run
// time; Maven Central has the same server as jars, so Maven fetches them once into
// .tools/temporal-test-server/ and a small wrapper script runs them. The SDK spawns the wrapper as
// `<wrapper> <port>`, which starts the server with time skipping locked; the SDK's client unlocks it
// while it awaits a workflow result (or in `env.sleep`). Don't pass `--enable-time-skipping`: time
// would then also run ahead while a worker holds a workflow task, which times the task out.
// The server holds its clock while any activity is scheduled or running.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostEnv, type Config, type HostEnv } from '../config.ts';
import { StackError, findFreePort } from './processes.ts';
import { findOnPath, type InstallLog } from './temporalCli.ts';

export const TEMPORAL_TEST_SERVER_VERSION = '1.31.0';
const MAIN_CLASS = 'io.temporal.testserver.TestServer';

export function testServerDir(config: Config): string {
  return join(config.toolsDir, 'temporal-test-server');
}

/** The script to pass as `server.executable: { type: 'existing-path', path }`. */
export function testServerWrapperPath(config: Config): string {
  return join(testServerDir(config), 'temporal-test-server');
}

const libDir = (config: Config) => join(testServerDir(config), 'lib');
/** The classes the server loads to start, archived once (AppCDS): it then listens in ~0.6 s instead of ~2 s. */
const classArchive = (config: Config) => join(testServerDir(config), 'classes.jsa');
const serverJar = (config: Config) => join(libDir(config), `temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}.jar`);
// The server logs through SLF4J 1.7; without a binding it prints a warning at every start.
const SLF4J_NOP_VERSION = '1.7.36';
const requiredJars = (config: Config) => [serverJar(config), join(libDir(config), `slf4j-nop-${SLF4J_NOP_VERSION}.jar`)];

const pom = `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/temporalTestServer.ts: the jars of Temporal's time-skipping test server. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.fleet-runbooks</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>${SLF4J_NOP_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

// The JVM flags favour start-up (the SDK gives the server 5 s to listen, and each test file starts
// one) over peak speed: one serial collector, the C1 compiler only, and the class archive (a
// missing or outdated archive is silently ignored).
const jvmFlags = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto', '-Xss512k'];

// The SDK stops the server when its test environment is torn down; a watchdog also stops it when
// the process that started it dies without tearing down (a test run killed on timeout, say).
const wrapper = `#!/bin/sh
# Temporal's test server ${TEMPORAL_TEST_SERVER_VERSION} (written by scripts/temporalTestServer.ts).
# Usage: temporal-test-server <port>
dir=$(cd "$(dirname "$0")" && pwd)
parent=$PPID
self=$$
(
  while kill -0 "$parent" 2>/dev/null; do sleep 1; done
  grep -q ${MAIN_CLASS} "/proc/$self/cmdline" 2>/dev/null && kill "$self"
) </dev/null >/dev/null 2>&1 &
exec java ${jvmFlags.join(' ')} -XX:SharedArchiveFile="$dir/classes.jsa" -cp "$dir/lib/*" ${MAIN_CLASS} "$@"
`;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The wrapper's path when the test server is installed, else undefined (installs nothing). */
export function locateTemporalTestServer(config: Config): string | undefined {
  const path = testServerWrapperPath(config);
  const installed = requiredJars(config).every((jar) => existsSync(jar)) && existsSync(classArchive(config));
  return installed && isExecutable(path) && readFileSync(path, 'utf8') === wrapper ? path : undefined;
}

/** Installs the test server when missing (Maven, about 35 MB, first run only) and returns the wrapper's path. */
export async function ensureTemporalTestServer(config: Config, log: InstallLog, env: HostEnv = hostEnv()): Promise<string> {
  const searchPath = `${env.PATH ?? ''}:/usr/bin:/bin`;
  const java = findOnPath('java', searchPath);
  if (!java) {
    throw new StackError('Java is missing: the unit tests run Temporal\'s test server on it. Install it with `apt-get install default-jre-headless`.');
  }
  const found = locateTemporalTestServer(config);
  if (found) return found;

  const dir = testServerDir(config);
  mkdirSync(dir, { recursive: true });
  if (!requiredJars(config).every((jar) => existsSync(jar))) {
    const mvn = findOnPath('mvn', searchPath);
    if (!mvn) {
      throw new StackError('Maven is missing: it fetches Temporal\'s test server for the unit tests. Install it with `apt-get install maven`.');
    }
    log(`Fetching Temporal's test server ${TEMPORAL_TEST_SERVER_VERSION} from Maven Central into ${dir} (first run only)…`);
    writeFileSync(join(dir, 'pom.xml'), pom);
    // Fetched beside lib/ and renamed, so an interrupted download never looks installed.
    const partial = join(dir, 'lib.partial');
    rmSync(partial, { recursive: true, force: true });
    const result = spawnSync(mvn, ['-q', '-B', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`, '-DincludeScope=runtime'], {
      env,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (result.status !== 0) {
      rmSync(partial, { recursive: true, force: true });
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new StackError(
        `Maven could not fetch io.temporal:temporal-test-server:${TEMPORAL_TEST_SERVER_VERSION} (exit ${result.status ?? result.signal}); check that Maven Central is reachable.${output ? `\n${output}` : ''}`,
      );
    }
    rmSync(libDir(config), { recursive: true, force: true });
    renameSync(partial, libDir(config));
    rmSync(classArchive(config), { force: true }); // it names the jars it was made from
    const missing = requiredJars(config).filter((jar) => !existsSync(jar));
    if (missing.length > 0) throw new StackError(`Maven finished but ${missing.join(', ')} is missing.`);
  }
  writeFileSync(testServerWrapperPath(config), wrapper);
  chmodSync(testServerWrapperPath(config), 0o755);
  if (!existsSync(classArchive(config))) await writeClassArchive(config, java, log);
  return testServerWrapperPath(config);
}

/** Starts the server once with -XX:ArchiveClassesAtExit and stops it once it listens: the JVM archives what it loaded. */
async function writeClassArchive(config: Config, java: string, log: InstallLog): Promise<void> {
  const partial = `${classArchive(config)}.partial`;
  rmSync(partial, { force: true });
  const port = await findFreePort();
  const server = spawn(java, [...jvmFlags, `-XX:ArchiveClassesAtExit=${partial}`, '-cp', `${libDir(config)}/*`, MAIN_CLASS, String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => server.once('close', () => resolve()));
  try {
    const deadline = Date.now() + 30_000;
    while (!(await isListening(port))) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error(`the test server did not listen on port ${port}`);
      await sleep(50);
    }
    await sleep(500); // main() registers its shutdown hook just after the port opens
  } catch (error) {
    log(`Could not archive the test server's classes (${(error as Error).message}); it will start more slowly.`);
  } finally {
    server.kill('SIGTERM'); // the JVM writes the archive as it exits
    await exited;
  }
  if (existsSync(partial)) renameSync(partial, classArchive(config));
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

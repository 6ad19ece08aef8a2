// The one module that reads the environment. Everything else receives a typed Config.
// Defaults give a working laptop stack; every setting is listed in the README's table.
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError, count, directory, projectRoot, domainList, flag, hostList, port, splitHostPort, text, urlList, type Endpoint, type Env } from './configValues.ts';

export { ConfigError, projectRoot, runningBuildDir, type Endpoint } from './configValues.ts';

export interface Config {
  /** The environment this configuration was read from: child processes get exactly this, so they read the same settings. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where local services keep their data and logs (.data/ by default). */
  dataDir: string;
  logDir: string;
  /** Where installed tools (the Temporal CLI) live (.tools/ by default). */
  toolsDir: string;
  api: Endpoint & {
    /** API_INSTANCES: API/receiver processes sharing the port (Node's cluster module), like the seed's load-balanced web instances; 1 (the default) serves in the API process itself. */
    instances: number;
    /** API_INSTANCE_NUMBER: which instance this process is (1 … instances), set by the cluster primary for each one it forks. */
    instanceNumber: number | undefined;
    /** DATA_PLANE_OPEN: the request-run receiver and the config API answer without credentials (the default on loopback only). */
    dataPlaneOpen: boolean;
    /** API_ALLOWED_HOSTS: names the server answers for besides loopback ones and API_HOST (its DNS names when it listens on 0.0.0.0). */
    allowedHosts: string[];
  };
  access: {
    /** A session unused this long ends (SESSION_IDLE_MINUTES, default 60). */
    sessionIdleMs: number;
    /** A session ends this long after sign-in (SESSION_MAX_HOURS, default 12). */
    sessionMaxMs: number;
  };
  temporal: {
    address: string;
    namespace: string;
    /** Connection options in the Temporal ecosystem's own form (envconfig: address, TLS, API key, profile file). */
    connect: ClientConnectConfig;
    /** Start a local `temporal server start-dev`; true when the address is on loopback and no TLS/API key is set. */
    runLocalServer: boolean;
    uiPort: number;
    /** Base URL of the Temporal Web UI, for links from our UI. */
    webUiUrl: string;
    /** An explicit path to the `temporal` CLI binary, checked before PATH and .tools/. */
    cliPath: string | undefined;
  };
  mysql: Endpoint & {
    user: string;
    password: string;
    database: string;
    /** Longest wait for a connection's handshake, then for any one query, in ms: a hung server is an error, not a wait. */
    connectTimeoutMs: number;
    queryTimeoutMs: number;
    /** Requests a pool lets wait for a free connection; more are refused at once (0 = unlimited). */
    queueLimit: number;
  };
  memcached: Endpoint;
  /** quotaBytes: etcd's --quota-backend-bytes when the stack starts it (ETCD_QUOTA_BYTES); past it etcd raises NOSPACE and refuses writes. */
  etcd: Endpoint & { peerPort: number; quotaBytes: number };
  /** Start MariaDB, memcached and etcd as child processes (false when pointing at existing servers). */
  runLocalServices: boolean;
  /** A prebuilt workflow bundle (workers/bundle.ts writes one at start). */
  workflowBundlePath: string | undefined;
  /** FRACTAL_WORKFLOW_BUNDLE_PATH: the fractal workflows' own prebuilt bundle (the stack writes it beside the other). */
  fractalWorkflowBundlePath: string | undefined;
  /** Appended to every task queue a worker polls: isolated lanes for tests and benchmarks. */
  taskQueueSuffix: string;
  /** WORKER_METRICS_PORT: where the main worker serves the Temporal SDK's Prometheus metrics (/metrics on 127.0.0.1); 0 turns it off. */
  workerMetricsPort: number;
  requestRuns: {
    /** URL prefixes a request run may call; anything else is refused (default: the stack's own receivers). */
    allowedDestinations: string[];
  };
  counters: {
    /** COUNTER_ALLOWED_HOSTS: hosts an http counter's URL may name (lower-cased); `{host}` or `{node}` as the host is checked when sampling. */
    allowedHosts: string[];
    /** COUNTER_RETENTION_DAYS: counter samples are kept this long in MySQL; their per-minute roll-ups ten times as long. */
    retentionDays: number;
  };
  cpuLoad: {
    /** Load-worker processes the stack starts; each burns one core while the load is ON. */
    loadWorkers: number;
    /** CPU_LOAD_MAX_TTL_MINUTES: longest ON a switch may ask for; CPU_LOAD_IDLE_MINUTES: an OFF target's workflow ends after this long without a switch. */
    maxTtlMs: number;
    idleMs: number;
  };
  fractals: {
    /** FRACTAL_WORKERS: fractal worker processes the stack starts (workers/fractalWorker.ts, default 1: it renders on every core); 0 leaves renders queued. */
    workers: number;
    /** FRACTAL_WORKER_THREADS: render threads per fractal worker process at most (default: the cores it has). */
    threads: number;
    /** FRACTAL_RENDER_IDLE_SECONDS (default 30): a render thread is started when a job needs it and stopped after this long without one. */
    renderIdleMs: number;
    /** Object storage of the PNGs through the S3 API: moto's server locally, AWS S3 or any S3-compatible store by configuration. */
    storage: {
      /** FRACTAL_S3_ENDPOINT: undefined means AWS S3 itself (the SDK's regional endpoints). */
      endpoint: string | undefined;
      bucket: string;
      region: string;
      /** Path-style URLs (http://host/bucket/key): what moto and most S3-compatible stores need. */
      forcePathStyle: boolean;
      /** Static keys (FRACTAL_S3_ACCESS_KEY_ID, …); undefined means the SDK's default chain. Read by activities and the API only. */
      credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
      /** Make the bucket at start when missing (always for moto, which forgets it at a restart). */
      createBucket: boolean;
    };
  };
  /** npm start's supervisor restarts any process that exits; one that crashes more than maxRestarts times within windowMs stops the stack. */
  supervisor: { maxRestarts: number; windowMs: number };
  configCache: {
    /** etcd prefix of every config key (the seed's USER_KEY_PREFIX), so users of one etcd stay apart. */
    keyPrefix: string;
    /** Largest value PUT /config/<key> accepts, in bytes; larger ones answer 413. */
    maxValueBytes: number;
    /** Most keys and most bytes (keys + values) one instance's cache holds; a PUT past either answers 507. */
    maxKeys: number;
    maxTotalBytes: number;
    /** When set, API instance i (1…N) also listens on instanceBasePort + i − 1, so each instance can be addressed. */
    instanceBasePort: number | undefined;
  };
  cf: {
    /** Cloud Controller API (the simulator's URL unless set). */
    apiUrl: string;
    /** Password-grant user (the cf CLI's `cf` client); defaults are the simulator's built-in user. */
    username: string;
    password: string;
    /** A client_credentials client; when set, clients authenticate with it instead of the user. */
    clientId: string | undefined;
    clientSecret: string | undefined;
    /** The shared domain apps are routed under (the simulator serves exactly this one). */
    appsDomain: string;
    /** Start the CF simulator (sim/cf) with the stack; true unless CF_API_URL points elsewhere. */
    simulator: Endpoint & { run: boolean };
    /** Where prototype bits (zip files) named in a desired state are read from. */
    bitsDir: string;
    /** How the CF client reaches the API and UAA: TLS trust and HTTP proxies (activities/cf/transport.ts). */
    connection: CfConnection;
  };
  aws: {
    region: string;
    /** EC2 and ELBv2 endpoint; undefined means AWS itself (the SDK's regional endpoints). */
    endpoint: string | undefined;
    /** Static keys; undefined means the SDK's default chain (instance role, ~/.aws, SSO). Never passed to workflows. */
    credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
    /** Start moto's server as the local EC2/ELBv2 endpoint; true unless FLEET_AWS_ENDPOINT points elsewhere. */
    moto: Endpoint & { run: boolean };
  };
  ssh: {
    /** Private keys that SSH profiles name (`keyRef` is a file name here); workflows carry only the name. */
    keysDir: string;
    /** How a node's SSH address is found: the local sshd (moto's instances have no SSH) or the instance's own address. */
    endpoints: SshEndpointMode;
    /** The local OpenSSH sshd standing in for instances: its port and the loopback addresses nodes are mapped to. */
    sshd: { port: number; addresses: string[]; run: boolean };
  };
  /** Payload encryption (temporal/codec.ts): what every client and worker writes to Temporal is AES-256-GCM encrypted. */
  payloadCodec: {
    /** Keys from PAYLOAD_CODEC_KEYS; the first encrypts, all decrypt. Empty: the key file is read instead. */
    keys: PayloadCodecKey[];
    /** The key file (one `id:base64` key a line, first encrypts), read when PAYLOAD_CODEC_KEYS is unset. */
    keyFile: string;
  };
  smtp: Endpoint & {
    secure: boolean;
    user: string | undefined;
    /** Resolved by the email activity only; never in workflow inputs or history. */
    password: string | undefined;
    from: string;
    /** Domains notify addresses may be in (NOTIFY_ALLOWED_DOMAINS): exact names, or `*.example.com` for its subdomains. */
    allowedDomains: string[];
    /** The local SMTP sink (sim/smtp) that keeps the newest messages for the UI's mailbox; started when SMTP points at it. */
    sink: { run: boolean; httpPort: number; maxMessages: number };
  };
}

/** An AES-256 key and the ID written beside every payload it encrypts. */
export interface PayloadCodecKey {
  id: string;
  key: Buffer;
}

const codecKeyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Codec keys written `id:base64-of-32-bytes`, separated by commas or new lines (`#` starts a comment);
 * the first is the one that encrypts. `source` names where they came from in error messages.
 */
export function parseCodecKeys(text: string, source: string): PayloadCodecKey[] {
  const entries = text.split('\n').flatMap((line) => line.replace(/#.*$/, '').split(',')).map((entry) => entry.trim()).filter(Boolean);
  const keys = entries.map((entry) => {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator).trim();
    const key = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
    if (separator < 0 || !codecKeyIdPattern.test(id) || key.length !== 32) {
      throw new ConfigError(`${source} has a key that is not \`id:base64\` of 32 bytes (IDs are letters, digits, . _ -): generate one with \`echo "k2:$(openssl rand -base64 32)"\`.`);
    }
    return { id, key };
  });
  const ids = keys.map((k) => k.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new ConfigError(`${source} names key ${JSON.stringify(duplicate)} twice: every key needs its own ID.`);
  return keys;
}

export const sshEndpointModes = ['local-sshd', 'private-ip', 'public-ip', 'public-dns'] as const;
export type SshEndpointMode = (typeof sshEndpointModes)[number];

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '::1']);

/** localhost, 127.0.0.0/8 and ::1 (bracketed or not, any case): a name that never leaves this machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

function temporalSettings(env: Env): Config['temporal'] {
  let connect: ClientConnectConfig;
  try {
    // envconfig reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
    // TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE, exactly as the temporal CLI and other SDKs do.
    const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
    connect = loadClientConnectConfig({ overrideEnvVars });
  } catch (error) {
    throw new ConfigError(`Temporal client settings are invalid (TEMPORAL_* variables or config file): ${(error as Error).message}`);
  }
  const address = connect.connectionOptions.address ?? '127.0.0.1:7233';
  connect = { ...connect, connectionOptions: { ...connect.connectionOptions, address } };
  const namespace = connect.namespace ?? 'default';
  const { host } = splitHostPort(address, 'TEMPORAL_ADDRESS');
  const secured = Boolean(connect.connectionOptions.tls || connect.connectionOptions.apiKey);
  const uiPort = port(env, 'TEMPORAL_UI_PORT', 8233);
  return {
    address,
    namespace,
    connect: { ...connect, namespace },
    runLocalServer: flag(env, 'TEMPORAL_LOCAL_SERVER', loopbackHosts.has(host) && !secured),
    uiPort,
    webUiUrl: text(env, 'TEMPORAL_WEB_URL', `http://127.0.0.1:${uiPort}`).replace(/\/$/, ''),
    cliPath: env.TEMPORAL_CLI_PATH?.trim() || undefined,
  };
}

function configCacheSettings(env: Env, instances: number): Config['configCache'] {
  const instanceBasePort = env.CONFIG_CACHE_INSTANCE_BASE_PORT?.trim() ? port(env, 'CONFIG_CACHE_INSTANCE_BASE_PORT', 0) : undefined;
  if (instanceBasePort !== undefined && instanceBasePort + instances - 1 > 65535) {
    throw new ConfigError(`CONFIG_CACHE_INSTANCE_BASE_PORT=${instanceBasePort} leaves no room for ${instances} instance ports: use a port up to ${65536 - instances}.`);
  }
  return {
    // USER_KEY_PREFIX is the seed's name for it, so its manifests keep working.
    keyPrefix: env.CONFIG_CACHE_KEY_PREFIX?.trim() || env.USER_KEY_PREFIX?.trim() || '/fleet/config/',
    maxValueBytes: Math.max(1, count(env, 'CONFIG_CACHE_MAX_VALUE_BYTES', 64 * 1024, 1024 * 1024)),
    maxKeys: Math.max(1, count(env, 'CONFIG_CACHE_MAX_KEYS', 100_000, 10_000_000)),
    maxTotalBytes: Math.max(1, count(env, 'CONFIG_CACHE_MAX_TOTAL_BYTES', 64 * 1024 * 1024, 2 ** 33)),
    instanceBasePort,
  };
}

/** TLS and proxy settings of the CF client; the proxy URLs may carry credentials, so they stay in the worker. */
export interface CfConnection {
  /** CF_SKIP_SSL_VALIDATION (the original cf-pusher's `skip_ssl_validation`): accept any certificate. */
  skipSslValidation: boolean;
  /** PEM certificates (CF_CA_BUNDLE's file) trusted besides Node's own roots, e.g. a foundation's self-signed CA. */
  caBundle: string | undefined;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY (or their lower-case forms, as curl reads them). */
  httpsProxy: string | undefined;
  httpProxy: string | undefined;
  noProxy: string | undefined;
}

function proxyUrl(env: Env, name: string): string | undefined {
  const raw = (env[name.toLowerCase()] ?? env[name])?.trim();
  if (!raw) return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new ConfigError(`${name} is not an http(s) URL: use the proxy's address, e.g. http://proxy.example.com:3128.`);
  }
  return raw;
}

function cfConnection(env: Env): CfConnection {
  const caPath = env.CF_CA_BUNDLE?.trim();
  let caBundle: string | undefined;
  if (caPath) {
    const path = isAbsolute(caPath) ? caPath : resolve(projectRoot, caPath);
    try {
      caBundle = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`CF_CA_BUNDLE=${JSON.stringify(caPath)} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): name a PEM file of CA certificates.`);
    }
    if (!caBundle.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`CF_CA_BUNDLE=${JSON.stringify(caPath)} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  }
  return {
    skipSslValidation: flag(env, 'CF_SKIP_SSL_VALIDATION', false),
    caBundle,
    httpsProxy: proxyUrl(env, 'HTTPS_PROXY'),
    httpProxy: proxyUrl(env, 'HTTP_PROXY'),
    noProxy: (env.no_proxy ?? env.NO_PROXY)?.trim() || undefined,
  };
}

function cfSettings(env: Env, dataDir: string): Config['cf'] {
  const simulator = { host: '127.0.0.1', port: port(env, 'CF_SIM_PORT', 9022) };
  const simulatorUrl = `http://${simulator.host}:${simulator.port}`;
  const apiUrl = text(env, 'CF_API_URL', simulatorUrl).replace(/\/$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(apiUrl)) throw new ConfigError(`CF_API_URL=${JSON.stringify(apiUrl)} is not an http(s) URL: use the API's address, e.g. https://api.sys.example.com.`);
  const clientId = env.CF_CLIENT_ID?.trim() || undefined;
  return {
    apiUrl,
    username: text(env, 'CF_USERNAME', 'admin'),
    password: text(env, 'CF_PASSWORD', 'admin-secret'),
    clientId,
    clientSecret: clientId ? (env.CF_CLIENT_SECRET ?? '') : undefined,
    appsDomain: text(env, 'CF_APPS_DOMAIN', 'apps.cf.test'),
    simulator: { ...simulator, run: flag(env, 'CF_SIM', apiUrl === simulatorUrl) },
    bitsDir: directory(env, 'CF_BITS_DIR', join(dataDir, 'bits')),
    connection: cfConnection(env),
  };
}

function awsSettings(env: Env): Config['aws'] {
  const moto = { host: '127.0.0.1', port: port(env, 'MOTO_PORT', 5055) };
  const motoUrl = `http://${moto.host}:${moto.port}`;
  const endpoint = text(env, 'FLEET_AWS_ENDPOINT', motoUrl).replace(/\/$/, '');
  if (endpoint !== 'aws' && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new ConfigError(`FLEET_AWS_ENDPOINT=${JSON.stringify(endpoint)} is not an http(s) URL: use the endpoint's address, or "aws" for AWS itself.`);
  }
  const runMoto = flag(env, 'MOTO', endpoint === motoUrl);
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  // moto accepts any key; "testing" is what its docs use, so nothing real is ever needed locally.
  const credentials = accessKeyId
    ? { accessKeyId, secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' }
    : endpoint === motoUrl ? { accessKeyId: 'testing', secretAccessKey: 'testing' } : undefined;
  return {
    region: text(env, 'AWS_REGION', 'us-east-1'),
    endpoint: endpoint === 'aws' ? undefined : endpoint,
    credentials,
    moto: { ...moto, run: runMoto },
  };
}

function fractalSettings(env: Env, aws: Config['aws']): Config['fractals'] {
  const motoUrl = `http://${aws.moto.host}:${aws.moto.port}`;
  const endpoint = text(env, 'FRACTAL_S3_ENDPOINT', aws.moto.run ? motoUrl : 'aws').replace(/\/$/, '');
  if (endpoint !== 'aws' && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new ConfigError(`FRACTAL_S3_ENDPOINT=${JSON.stringify(endpoint)} is not an http(s) URL: use the store's address, or "aws" for AWS S3 itself.`);
  }
  const bucket = text(env, 'FRACTAL_S3_BUCKET', 'fleet-fractals');
  // S3's bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`FRACTAL_S3_BUCKET=${JSON.stringify(bucket)} is not a bucket name: use 3 to 63 lowercase letters, digits, dots and hyphens.`);
  }
  const keyId = env.FRACTAL_S3_ACCESS_KEY_ID?.trim();
  const credentials = keyId
    ? { accessKeyId: keyId, secretAccessKey: env.FRACTAL_S3_SECRET_ACCESS_KEY ?? '' }
    : endpoint === motoUrl
      ? { accessKeyId: 'testing', secretAccessKey: 'testing' }
      : aws.credentials;
  const local = endpoint === motoUrl;
  return {
    workers: count(env, 'FRACTAL_WORKERS', 1, 64),
    threads: Math.max(1, count(env, 'FRACTAL_WORKER_THREADS', availableParallelism(), 256)),
    renderIdleMs: Math.max(1, count(env, 'FRACTAL_RENDER_IDLE_SECONDS', 30, 24 * 3600)) * 1000,
    storage: {
      endpoint: endpoint === 'aws' ? undefined : endpoint,
      bucket,
      region: text(env, 'FRACTAL_S3_REGION', aws.region),
      forcePathStyle: flag(env, 'FRACTAL_S3_PATH_STYLE', endpoint !== 'aws'),
      credentials,
      createBucket: flag(env, 'FRACTAL_S3_CREATE_BUCKET', local),
    },
  };
}

function sshSettings(env: Env, dataDir: string, localEndpoints: boolean): Config['ssh'] {
  const endpoints = text(env, 'SSH_ENDPOINTS', localEndpoints ? 'local-sshd' : 'private-ip') as SshEndpointMode;
  if (!sshEndpointModes.includes(endpoints)) {
    throw new ConfigError(`SSH_ENDPOINTS=${JSON.stringify(endpoints)} is not one of ${sshEndpointModes.join(', ')}.`);
  }
  // sshd listens on at most 16 addresses; nodes beyond that share one (they are one sshd anyway).
  const addressCount = Math.max(1, count(env, 'SSHD_ADDRESSES', 16, 16));
  return {
    keysDir: directory(env, 'SSH_KEYS_DIR', join(dataDir, 'ssh', 'keys')),
    endpoints,
    sshd: {
      port: port(env, 'SSHD_PORT', 2222),
      addresses: Array.from({ length: addressCount }, (_, i) => `127.0.0.${11 + i}`),
      run: flag(env, 'SSHD', endpoints === 'local-sshd'),
    },
  };
}

function smtpSettings(env: Env): Config['smtp'] {
  const host = text(env, 'SMTP_HOST', '127.0.0.1');
  const smtpPort = port(env, 'SMTP_PORT', 2525);
  const user = env.SMTP_USER?.trim() || undefined;
  return {
    host,
    port: smtpPort,
    secure: flag(env, 'SMTP_SECURE', false),
    user,
    password: user ? (env.SMTP_PASSWORD ?? '') : undefined,
    from: text(env, 'SMTP_FROM', 'Fleet Runbooks <fleet@localhost>'),
    // The example cluster mails ops@fleet.local, the tests <cluster>@fleet.test: reserved names, never on the internet.
    allowedDomains: domainList(env, 'NOTIFY_ALLOWED_DOMAINS', ['localhost', 'fleet.local', 'fleet.test']),
    sink: {
      run: flag(env, 'SMTP_SINK', loopbackHosts.has(host) && !user),
      httpPort: port(env, 'SMTP_SINK_HTTP_PORT', 2526),
      maxMessages: Math.max(1, count(env, 'SMTP_SINK_MAX_MESSAGES', 1000, 1_000_000)),
    },
  };
}

/** Hosts http counters may call: loopback by default, so a counter cannot reach into the network unless told. */
function counterAllowedHosts(env: Env): string[] {
  const hosts = hostList(env, 'COUNTER_ALLOWED_HOSTS').map((host) => host.replace(/^\[(.*)\]$/, '$1'));
  return hosts.length > 0 ? hosts : [...loopbackHosts];
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = directory(env, 'FLEET_DATA_DIR', join(projectRoot, '.data'));
  const host = text(env, 'API_HOST', '127.0.0.1');
  const api = {
    host,
    port: port(env, 'API_PORT', 3000),
    instances: Math.max(1, count(env, 'API_INSTANCES', 1, 64)),
    instanceNumber: env.API_INSTANCE_NUMBER?.trim() ? Math.max(1, count(env, 'API_INSTANCE_NUMBER', 1, 64)) : undefined,
    dataPlaneOpen: flag(env, 'DATA_PLANE_OPEN', isLoopbackHost(host)),
    allowedHosts: hostList(env, 'API_ALLOWED_HOSTS'),
  };
  // On a network, an open data plane lets anyone there write config keys and inflate run counts.
  if (api.dataPlaneOpen && !isLoopbackHost(host)) {
    throw new ConfigError(`DATA_PLANE_OPEN=true with API_HOST=${host}: anyone who reaches ${host} could write config keys; unset DATA_PLANE_OPEN (load tools then send a token) or listen on loopback.`);
  }
  return {
    env: { ...env },
    dataDir,
    logDir: join(dataDir, 'logs'),
    toolsDir: directory(env, 'FLEET_TOOLS_DIR', join(projectRoot, '.tools')),
    api,
    access: {
      sessionIdleMs: Math.max(1, count(env, 'SESSION_IDLE_MINUTES', 60, 7 * 24 * 60)) * 60_000,
      sessionMaxMs: Math.max(1, count(env, 'SESSION_MAX_HOURS', 12, 30 * 24)) * 3_600_000,
    },
    temporal: temporalSettings(env),
    mysql: {
      host: text(env, 'MYSQL_HOST', '127.0.0.1'),
      port: port(env, 'MYSQL_PORT', 3306),
      user: text(env, 'MYSQL_USER', 'fleet'),
      password: text(env, 'MYSQL_PASSWORD', 'fleet-local-only'),
      database: text(env, 'MYSQL_DATABASE', 'fleet'),
      connectTimeoutMs: Math.max(1, count(env, 'MYSQL_CONNECT_TIMEOUT_MS', 3000, 600_000)),
      queryTimeoutMs: Math.max(1, count(env, 'MYSQL_QUERY_TIMEOUT_MS', 10_000, 3_600_000)),
      queueLimit: count(env, 'MYSQL_QUEUE_LIMIT', 200, 100_000),
    },
    memcached: { host: text(env, 'MEMCACHED_HOST', '127.0.0.1'), port: port(env, 'MEMCACHED_PORT', 11211) },
    etcd: { host: text(env, 'ETCD_HOST', '127.0.0.1'), port: port(env, 'ETCD_PORT', 2379), peerPort: port(env, 'ETCD_PEER_PORT', 2380), quotaBytes: Math.max(1, count(env, 'ETCD_QUOTA_BYTES', 512 * 1024 * 1024, 2 ** 33)) },
    runLocalServices: flag(env, 'FLEET_LOCAL_SERVICES', true),
    workflowBundlePath: env.WORKFLOW_BUNDLE_PATH?.trim() || undefined,
    fractalWorkflowBundlePath: env.FRACTAL_WORKFLOW_BUNDLE_PATH?.trim() || undefined,
    taskQueueSuffix: env.FLEET_TASK_QUEUE_SUFFIX?.trim() ?? '',
    workerMetricsPort: env.WORKER_METRICS_PORT?.trim() === '0' ? 0 : port(env, 'WORKER_METRICS_PORT', 9464),
    requestRuns: {
      allowedDestinations: urlList(env, 'REQUEST_RUN_ALLOWED_DESTINATIONS', [`http://${api.host}:${api.port}/receiver`]),
    },
    counters: { allowedHosts: counterAllowedHosts(env), retentionDays: Math.max(1, count(env, 'COUNTER_RETENTION_DAYS', 7, 3650)) },
    cpuLoad: {
      loadWorkers: count(env, 'CPU_LOAD_WORKERS', 2, 64),
      maxTtlMs: Math.max(1, count(env, 'CPU_LOAD_MAX_TTL_MINUTES', 60, 7 * 24 * 60)) * 60_000,
      idleMs: Math.max(1, count(env, 'CPU_LOAD_IDLE_MINUTES', 60, 7 * 24 * 60)) * 60_000,
    },
    supervisor: { maxRestarts: count(env, 'SUPERVISOR_MAX_RESTARTS', 5, 1000), windowMs: Math.max(1, count(env, 'SUPERVISOR_WINDOW_MINUTES', 5, 24 * 60)) * 60_000 },
    configCache: configCacheSettings(env, api.instances),
    cf: cfSettings(env, dataDir),
    payloadCodec: {
      keys: parseCodecKeys(env.PAYLOAD_CODEC_KEYS ?? '', 'PAYLOAD_CODEC_KEYS'),
      keyFile: env.PAYLOAD_CODEC_KEY_FILE?.trim() ? directory(env, 'PAYLOAD_CODEC_KEY_FILE', '') : join(dataDir, 'codec.keys'),
    },
    ...nodeSettings(env, dataDir),
  };
}

function nodeSettings(env: Env, dataDir: string): Pick<Config, 'aws' | 'ssh' | 'smtp' | 'fractals'> {
  const aws = awsSettings(env);
  return { aws, ssh: sshSettings(env, dataDir, aws.moto.run), smtp: smtpSettings(env), fractals: fractalSettings(env, aws) };
}

/** What the `faafo` CLI needs: the API to call and the token to send (it reads nothing else). */
export interface FaafoSettings {
  /** FAAFO_ENDPOINT_URL: the API's base URL, without a trailing slash. */
  endpointUrl: string;
  /** FLEET_TOKEN: an API token (`npm run -s token -- my-laptop operator`); undefined sends none. */
  token: string | undefined;
}

export function faafoSettings(env: Env = process.env): FaafoSettings {
  const endpointUrl = text(env, 'FAAFO_ENDPOINT_URL', 'http://127.0.0.1:3000');
  if (!/^https?:\/\/[^/]/.test(endpointUrl) || !URL.canParse(endpointUrl)) {
    throw new ConfigError(`FAAFO_ENDPOINT_URL=${JSON.stringify(endpointUrl)} is not an http(s) URL: use the API's address, such as http://127.0.0.1:3000.`);
  }
  return { endpointUrl: endpointUrl.replace(/\/+$/, ''), token: env.FLEET_TOKEN?.trim() || undefined };
}

/** The local SMTP sink's mailbox over HTTP, when the stack runs one. */
export function mailboxUrl(config: Config): string | undefined {
  return config.smtp.sink.run ? `http://${config.smtp.host}:${config.smtp.sink.httpPort}` : undefined;
}

export type HostEnv = Record<string, string | undefined>;

/** The host environment (PATH, HOME, …) that child processes inherit, with overrides applied. */
export function hostEnv(overrides: Record<string, string> = {}): HostEnv {
  return { ...process.env, ...overrides };
}

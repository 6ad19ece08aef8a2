// What a fresh local stack needs to deploy nodes at once: a target group in moto (motoResources.ts;
// its state is in memory, so it is made at every start) and, once, an example cluster with local
// profiles; and the closed autoscaling loop on it (a CPU counter, a scale-out and a scale-in trigger,
// one node to sample).
import { userInfo } from 'node:os';
import type mysql from 'mysql2/promise';
import type { Config } from '../config.ts';
import { projectRoot } from '../configValues.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createDefinitionServices } from '../services/index.ts';
import type { NodesService } from '../services/nodes.ts';
import type { TriggersService } from '../services/triggers.ts';
import type { Client } from '@temporalio/client';
import { connectClient } from '../temporal/connection.ts';
import type { CounterBody, TriggerBody } from '../workflows/triggers.shared.ts';
import { LOCAL_SSH_KEY } from '../activities/nodes/ssh.ts';
import { EXAMPLE_CLUSTER, EXAMPLE_COUNTER, FRACTAL_BACKLOG_COUNTER, FRACTAL_CLUSTER, LOCAL_PROFILE, scaleInTrigger, scaleOutTrigger } from './localFleet.shared.ts';
import { LOCAL_IMAGE_ID, LOCAL_TARGET_GROUP } from './motoResources.ts';

export { EXAMPLE_CLUSTER, EXAMPLE_COUNTER, EXAMPLE_SCALE_IN, EXAMPLE_SCALE_OUT, FRACTAL_BACKLOG_COUNTER, FRACTAL_CLUSTER } from './localFleet.shared.ts';
export { LOCAL_IMAGE_ID, LOCAL_TARGET_GROUP } from './motoResources.ts';

const exampleManifest = `# OSConfiguration: the node's base directories and a marker file (facts: fleet_cluster, fleet_node).
file { ["/tmp/fleet-nodes", "/tmp/fleet-nodes/\${facts['fleet_node']}"]: ensure => directory }
file { "/tmp/fleet-nodes/\${facts['fleet_node']}/os-configured":
  content => "configured by puppet for \${facts['fleet_cluster']}\\n",
}
`;

export async function seedExampleCluster(pool: mysql.Pool, config: Config): Promise<void> {
  await pool.query('INSERT IGNORE INTO ssh_profiles SET ?', [{ name: LOCAL_PROFILE, user: userInfo().username, key_ref: LOCAL_SSH_KEY, port: null }]);
  await pool.query('INSERT IGNORE INTO ec2_profiles SET ?', [
    {
      name: LOCAL_PROFILE,
      region: config.aws.region,
      image_id: LOCAL_IMAGE_ID,
      instance_type: 't3.micro',
      security_groups: '[]',
      target_group: LOCAL_TARGET_GROUP,
    },
  ]);
  await pool.query('INSERT IGNORE INTO clusters SET ?', [
    {
      name: EXAMPLE_CLUSTER,
      // One node always stays (the registered one, sampled by the example triggers); room to deploy more.
      min_nodes: 1,
      max_nodes: 5,
      ec2_profile: LOCAL_PROFILE,
      ssh_profile: LOCAL_PROFILE,
      notify_email: 'ops@fleet.local',
      puppet_manifest: exampleManifest,
      tomcat_script: 'mkdir -p /tmp/fleet-nodes/$FLEET_NODE/tomcat\nprintf \'<Server port="8005"/>\\n\' > /tmp/fleet-nodes/$FLEET_NODE/tomcat/server.xml\necho "tomcat configured on $FLEET_NODE"\n',
      deploy_script: 'mkdir -p /tmp/fleet-nodes/$FLEET_NODE/webapps\necho "app v1" > /tmp/fleet-nodes/$FLEET_NODE/webapps/ROOT.war\necho "deployed to $FLEET_NODE"\n',
      cluster_update_script: 'echo "$FLEET_NODE sees the cluster change"\n',
    },
  ]);
}

/**
 * Percent of CPU busy over one second, machine-wide, from two reads of /proc/stat (POSIX sh): busy is
 * user + nice + system + irq + softirq + steal, idle is idle + iowait. Prints one whole number.
 */
export const CPU_BUSY_SCRIPT = `read -r _ u n s i w q sq st _ < /proc/stat
sleep 1
read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ < /proc/stat
busy=$(( (u2 + n2 + s2 + q2 + sq2 + st2) - (u + n + s + q + sq + st) ))
idle=$(( (i2 + w2) - (i + w) ))
[ $((busy + idle)) -gt 0 ] || exit 1
echo $(( 100 * busy / (busy + idle) ))
`;

export const exampleCounter: CounterBody = {
  kind: 'ssh',
  comparison: '>',
  threshold: 70,
  description: 'Percent of CPU busy over one second (/proc/stat); the example triggers compare it themselves.',
  script: CPU_BUSY_SCRIPT,
};

/** Settings of the example triggers a caller may change (the bench shortens heldFor; a local stack polls deployments every second). */
export interface ExampleTriggerOptions {
  cluster?: string;
  counter?: string;
  notify: string;
  intervalMs?: number;
  scaleOutHeldForMs?: number;
  scaleInHeldForMs?: number;
  cooldownMs?: number;
  /** Waits of the deployments and removals the chains start (default: poll every second, as moto answers at once). */
  timings?: Extract<TriggerBody['chain'][number], { kind: 'deploy-node' }>['timings'];
}

/**
 * The closed loop: avg of cpu-busy > 70 held 30 s → deploy a node, then mail; avg < 20 held 60 s →
 * remove the newest node (never below min). Scale out fast, in slowly (as HPA's defaults do); each has
 * a 60 s cooldown after its chain, so a new node's effect is seen before the next decision.
 */
export function exampleTriggers(options: ExampleTriggerOptions): Record<string, TriggerBody> {
  const cluster = options.cluster ?? EXAMPLE_CLUSTER;
  const counter = options.counter ?? EXAMPLE_COUNTER;
  const timings = options.timings ?? { pollMs: 1000 };
  const common = {
    cluster,
    counters: [counter],
    combine: 'avg' as const,
    intervalMs: options.intervalMs ?? 10_000,
    keepFiringForMs: 0,
    cooldownMs: options.cooldownMs ?? 60_000,
    enabled: true,
    circuitBreaker: { maxFirings: 10, windowMs: 3600_000 },
  };
  return {
    [scaleOutTrigger(cluster)]: {
      ...common,
      comparison: '>',
      threshold: 70,
      heldForMs: options.scaleOutHeldForMs ?? 30_000,
      chain: [
        { kind: 'deploy-node', label: 'Deploy a node', target: 'none', onFailure: 'stop', timings },
        {
          kind: 'email',
          label: 'Mail the operators',
          target: 'none',
          onFailure: 'continue',
          address: options.notify,
          title: '{cluster}: scaled out ({trigger})',
          content: 'CPU busy averaged {value}% on {cluster} for the trigger\'s heldFor; a node was deployed ({cause}, {firedAt}).',
        },
      ],
    },
    [scaleInTrigger(cluster)]: {
      ...common,
      comparison: '<',
      threshold: 20,
      heldForMs: options.scaleInHeldForMs ?? 60_000,
      chain: [{ kind: 'remove-node', label: 'Remove the newest node', target: 'lastnode', onFailure: 'stop', timings }],
    },
  };
}

export interface SeedExampleTriggersDependencies {
  triggers: Pick<TriggersService, 'getCounter' | 'putCounter' | 'getTrigger' | 'putTrigger'>;
  nodes: Pick<NodesService, 'clusterDetail' | 'registerNode'>;
  /** The host registered as the cluster's first node when it has none (this machine's sshd). */
  node: { hostname: string; port: number };
  options?: Omit<ExampleTriggerOptions, 'notify'>;
}

const isNotFound = (error: unknown) => typeof error === 'object' && error !== null && (error as { status?: unknown }).status === 404;
async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** POSIX-shell single quoting. */
const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The settings a node's fractal worker needs, as the script writes them: where Temporal and the
 * object store are, and references to secrets the node reads itself (the codec key file's path; S3
 * keys only when they are moto's literal "testing", otherwise the node's own AWS credentials chain).
 */
export function fractalWorkerEnv(config: Config, suffix = config.taskQueueSuffix): Record<string, string> {
  const { storage } = config.fractals;
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: config.temporal.address,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    FRACTAL_WORKER_THREADS: '1',
    FRACTAL_S3_ENDPOINT: storage.endpoint ?? 'aws',
    FRACTAL_S3_BUCKET: storage.bucket,
    FRACTAL_S3_REGION: storage.region,
    FRACTAL_S3_PATH_STYLE: String(storage.forcePathStyle),
    FRACTAL_S3_CREATE_BUCKET: 'false',
  };
  if (config.payloadCodec.keys.length === 0) env.PAYLOAD_CODEC_KEY_FILE = config.payloadCodec.keyFile;
  if (storage.credentials?.accessKeyId === 'testing' && storage.credentials.secretAccessKey === 'testing') {
    Object.assign(env, { FRACTAL_S3_ACCESS_KEY_ID: 'testing', FRACTAL_S3_SECRET_ACCESS_KEY: 'testing' });
  }
  if (suffix) env.FLEET_TASK_QUEUE_SUFFIX = suffix;
  return env;
}

/**
 * Where a node's fractal worker keeps its pid file and log: under the stack's data dir, since locally
 * every node is this machine and two stacks (a test's, npm start's) both have a `fractal-workers02`.
 */
export const fractalNodeDir = (config: Config, node = '$FLEET_NODE') => `${shellQuote(`${config.dataDir}/fractal-nodes`)}/${node}`;

/**
 * The deploy script: starts one fractal worker (one render thread) on the node, detached in a session
 * of its own (the script's run ends, the worker stays), logging to the node's directory with a pid
 * file; a worker already running there is left alone. It fails when the worker dies at once.
 */
export function fractalWorkerDeployScript(config: Config, suffix?: string): string {
  const env = Object.entries(fractalWorkerEnv(config, suffix)).map(([name, value]) => `${name}=${shellQuote(value)}`).join(' \\\n  ');
  return `dir=${fractalNodeDir(config)}
mkdir -p "$dir"
if [ -f "$dir/fractal-worker.pid" ] && kill -0 "$(cat "$dir/fractal-worker.pid")" 2>/dev/null; then
  echo "a fractal worker already runs on $FLEET_NODE (pid $(cat "$dir/fractal-worker.pid"))"; exit 0
fi
cd ${shellQuote(projectRoot)}
env ${env} \\
  setsid nohup ${shellQuote(process.execPath)} --import tsx ${shellQuote(`${projectRoot}/workers/fractalWorker.ts`)} >"$dir/fractal-worker.log" 2>&1 </dev/null &
echo $! > "$dir/fractal-worker.pid"
sleep 3
if ! kill -0 "$(cat "$dir/fractal-worker.pid")" 2>/dev/null; then
  echo "the fractal worker on $FLEET_NODE exited:" >&2; tail -n 20 "$dir/fractal-worker.log" >&2; exit 1
fi
echo "fractal worker started on $FLEET_NODE (pid $(cat "$dir/fractal-worker.pid"))"
`;
}

/**
 * The cluster update script: when a node leaves, its fractal worker is stopped (SIGTERM: it finishes
 * no new task; a render in progress is cancelled and retried by another worker). On a real fleet the
 * node's instance is terminated anyway and no other node has its pid file; locally every node is
 * this machine, so the first remaining node to run this stops it.
 */
export const fractalWorkerUpdateScript = (config: Config) => `if [ "$FLEET_CHANGE" = remove ]; then
  pidfile=${fractalNodeDir(config, '$FLEET_CHANGED_NODE')}/fractal-worker.pid
  if [ -f "$pidfile" ]; then
    kill -TERM "$(cat "$pidfile")" 2>/dev/null && echo "stopped the fractal worker of $FLEET_CHANGED_NODE"
    rm -f "$pidfile"
  fi
fi
echo "$FLEET_NODE sees $FLEET_CHANGED_NODE $FLEET_CHANGE"
`;

/** The fractal workers' cluster (min 1: the stack's own workers, its registered first node; max 3), once. */
export async function seedFractalCluster(pool: mysql.Pool, config: Config, settings: { cluster?: string; suffix?: string } = {}): Promise<void> {
  await pool.query('INSERT IGNORE INTO clusters SET ?', [
    {
      name: settings.cluster ?? FRACTAL_CLUSTER,
      min_nodes: 1,
      max_nodes: 3,
      ec2_profile: LOCAL_PROFILE,
      ssh_profile: LOCAL_PROFILE,
      notify_email: 'ops@fleet.local',
      deploy_script: fractalWorkerDeployScript(config, settings.suffix),
      cluster_update_script: fractalWorkerUpdateScript(config),
    },
  ]);
}

/** The backlog of the `fractals` queue: renders waiting for a worker. */
export const fractalBacklogCounter: CounterBody = {
  kind: 'queue-backlog',
  comparison: '>',
  threshold: 4,
  description: 'Render tasks waiting on the fractals task queue; the fractal triggers compare it themselves.',
  taskQueue: 'fractals',
  metric: 'count',
};

/**
 * The seed's scaling policy on the backlog instead of Ceilometer's cpu_util: more than 4 renders
 * waiting for 20 s → one more worker node, and another each minute it stays so (up to max 3); fewer
 * than 1 for 60 s → one fewer (never below min 1); 60 s cooldown after each episode. Seeded
 * disabled: an operator turns it on.
 */
export function fractalTriggers(options: { cluster?: string; counter?: string; notify: string; intervalMs?: number; outHeldForMs?: number; inHeldForMs?: number; repeatAfterMs?: number; cooldownMs?: number; enabled?: boolean; timings?: ExampleTriggerOptions['timings'] }): Record<string, TriggerBody> {
  const cluster = options.cluster ?? FRACTAL_CLUSTER;
  const timings = options.timings ?? { pollMs: 1000 };
  const common = {
    cluster,
    counters: [options.counter ?? FRACTAL_BACKLOG_COUNTER],
    combine: 'max' as const,
    intervalMs: options.intervalMs ?? 10_000,
    keepFiringForMs: 0,
    cooldownMs: options.cooldownMs ?? 60_000,
    enabled: options.enabled ?? false,
    circuitBreaker: { maxFirings: 10, windowMs: 3600_000 },
  };
  return {
    [scaleOutTrigger(cluster)]: {
      ...common,
      comparison: '>',
      threshold: 4,
      heldForMs: options.outHeldForMs ?? 20_000,
      // One more worker per minute while the backlog stays high (the template's alarm repeating), up to max.
      repeatAfterMs: options.repeatAfterMs ?? 60_000,
      chain: [{ kind: 'deploy-node', label: 'Deploy a fractal worker', target: 'none', onFailure: 'stop', timings }],
    },
    [scaleInTrigger(cluster)]: {
      ...common,
      comparison: '<',
      threshold: 1,
      heldForMs: options.inHeldForMs ?? 60_000,
      chain: [{ kind: 'remove-node', label: 'Remove the newest fractal worker', target: 'lastnode', onFailure: 'stop', timings }],
    },
  };
}

/**
 * Seeds the closed loop through the services the API uses (their checks, the schedule sync): the
 * counter and each trigger only when absent, so an operator's edits survive restarts (a deleted one
 * comes back at the next start: disable it to keep it quiet), and one registered node when the
 * cluster has none, so there is something to sample. Returns what it created.
 */
export async function seedExampleTriggers(deps: SeedExampleTriggersDependencies): Promise<string[]> {
  return seedLoop(deps, {
    cluster: deps.options?.cluster ?? EXAMPLE_CLUSTER,
    counter: deps.options?.counter ?? EXAMPLE_COUNTER,
    counterBody: exampleCounter,
    triggers: (notify) => exampleTriggers({ ...deps.options, notify }),
  });
}

/** A cluster's counter and triggers, each only when absent, and one registered node when it has none. */
async function seedLoop(
  deps: Omit<SeedExampleTriggersDependencies, 'options'>,
  loop: { cluster: string; counter: string; counterBody: CounterBody; triggers: (notify: string) => Record<string, TriggerBody> },
): Promise<string[]> {
  const { cluster, counter } = loop;
  const created: string[] = [];
  const detail = await deps.nodes.clusterDetail(cluster);
  if (detail.nodes.length === 0) {
    const registered = await deps.nodes.registerNode(cluster, { hostname: deps.node.hostname, port: deps.node.port });
    created.push(`node ${registered.name}`);
  }
  if (!(await exists(() => deps.triggers.getCounter(counter)))) {
    await deps.triggers.putCounter(counter, loop.counterBody);
    created.push(`counter ${counter}`);
  }
  const notify = detail.cluster.notifyEmail ?? 'ops@fleet.local';
  for (const [name, body] of Object.entries(loop.triggers(notify))) {
    if (await exists(() => deps.triggers.getTrigger(name))) continue;
    await deps.triggers.putTrigger(name, body);
    created.push(`trigger ${name}`);
  }
  return created;
}

/**
 * The fractal workers' loop: the backlog counter, the disabled scale-out/scale-in pair, and the
 * cluster's first node registered (this machine, whose workers npm start runs), so min 1 is the
 * stack's own workers and scale-in never removes them.
 */
export async function seedFractalTriggers(deps: Omit<SeedExampleTriggersDependencies, 'options'> & { options?: Omit<Parameters<typeof fractalTriggers>[0], 'notify'> }): Promise<string[]> {
  return seedLoop(deps, {
    cluster: deps.options?.cluster ?? FRACTAL_CLUSTER,
    counter: deps.options?.counter ?? FRACTAL_BACKLOG_COUNTER,
    counterBody: fractalBacklogCounter,
    triggers: (notify) => fractalTriggers({ ...deps.options, notify }),
  });
}

/** The triggers and nodes services as the API builds them (createDefinitionServices), for scripts and benchmarks outside the API. */
export function definitionServices(config: Config, pool: mysql.Pool, temporal: Client, suffix = config.taskQueueSuffix) {
  return createDefinitionServices({
    temporal,
    mysql: pool,
    namespace: config.temporal.namespace,
    temporalWebUiUrl: config.temporal.webUiUrl,
    notifyAllowedDomains: config.smtp.allowedDomains,
    counterAllowedHosts: config.counters.allowedHosts,
    taskQueueSuffix: suffix,
  });
}

/**
 * seedExampleTriggers on a stack, with the services built as the API builds them (their checks, the
 * schedule sync on the workers' task queues, `suffix` appended as tests do). Registers this machine's
 * sshd as the cluster's first node.
 */
export async function seedExampleLoop(config: Config, settings: { suffix?: string; options?: SeedExampleTriggersDependencies['options'] } = {}): Promise<string[]> {
  return withDefinitionServices(config, settings.suffix, (deps) => seedExampleTriggers({ ...deps, options: settings.options }));
}

/** seedFractalTriggers on a stack, as seedExampleLoop does for `web`. */
export async function seedFractalLoop(config: Config, settings: { suffix?: string; options?: Parameters<typeof seedFractalTriggers>[0]['options'] } = {}): Promise<string[]> {
  return withDefinitionServices(config, settings.suffix, (deps) => seedFractalTriggers({ ...deps, options: settings.options }));
}

async function withDefinitionServices<T>(config: Config, suffix: string | undefined, work: (deps: Omit<SeedExampleTriggersDependencies, 'options'>) => Promise<T>): Promise<T> {
  const pool = createMysqlPool(config, { connectionLimit: 2 });
  const temporal = await connectClient(config);
  try {
    return await work({ ...definitionServices(config, pool, temporal, suffix), node: { hostname: config.ssh.sshd.addresses[0]!, port: config.ssh.sshd.port } });
  } finally {
    await temporal.connection.close();
    await pool.end();
  }
}

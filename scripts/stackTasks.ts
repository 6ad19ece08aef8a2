// The one-off work of a stack's start, each run in a short-lived process (scripts/stackTaskMain.ts)
// so that the supervisor, which runs as long as the stack, never holds the clients it needs: the AWS
// SDK, Temporal's client and the services' models cost it about 150 MB. Each task imports only its
// own modules (the process starts sooner).
import type { Config } from '../config.ts';
import type { FirstAdmin } from './firstAdmin.ts';

export interface StackTaskResults {
  'prepare-fleet': { firstAdmin: FirstAdmin | undefined; seeded: { example: string[]; fractal: string[] } };
  'temporal-ready': Record<string, never>;
  'moto-resources': Record<string, never>;
}
export interface StackTaskInputs {
  'prepare-fleet': { firstAdmin: boolean; seedAutoscaling: boolean };
  'temporal-ready': { timeoutMs: number };
  'moto-resources': Record<string, never>;
}
export type StackTaskName = keyof StackTaskResults;

export const stackTasks: { [T in StackTaskName]: (config: Config, input: StackTaskInputs[T]) => Promise<StackTaskResults[T]> } = {
  /**
   * Once MySQL has its schema: the example clusters, (npm start) the first admin, and (a stack with
   * its own workers) the closed autoscaling loop on `web` and the fractal workers' (disabled), each
   * seeded once. One process for all three: they load the same modules.
   */
  async 'prepare-fleet'(config, input) {
    await prepareLocalFleet(config);
    const { ensureFirstAdmin } = await import('./firstAdmin.ts');
    const firstAdmin = input.firstAdmin ? await ensureFirstAdmin(config) : undefined;
    if (!input.seedAutoscaling || !config.aws.moto.run || !config.ssh.sshd.run) return { firstAdmin, seeded: { example: [], fractal: [] } };
    const { seedExampleLoop, seedFractalLoop } = await import('./localFleet.ts');
    return { firstAdmin, seeded: { example: await seedExampleLoop(config), fractal: await seedFractalLoop(config) } };
  },
  /** Temporal answers, its namespace exists and has the project's search attributes. */
  async 'temporal-ready'(config, input) {
    const [{ ensureSearchAttributes }, { connectWhenAnswering }] = await Promise.all([import('./temporalReady.ts'), import('../temporal/connection.ts')]);
    // The connection that saw it answer registers the attributes.
    const connection = await connectWhenAnswering(config, { timeoutMs: input.timeoutMs });
    try {
      await ensureSearchAttributes(connection, config.temporal.namespace);
    } finally {
      await connection.close();
    }
    return {};
  },
  /**
   * moto forgets everything at a restart: the local target group and the fractals' bucket are made
   * again at once. Fractal workers that outlive a moto restart then find their bucket again.
   */
  async 'moto-resources'(config) {
    await Promise.all([ensureLocalTargetGroup(config), ensureLocalFractalBucket(config)]);
    return {};
  },
};

/** The example clusters `web` and `fractal-workers` (profiles for moto and the local sshd), seeded once. */
async function prepareLocalFleet(config: Config): Promise<void> {
  if (config.aws.moto.run && config.ssh.sshd.run) {
    const [{ createMysqlPool }, { seedExampleCluster, seedFractalCluster }] = await Promise.all([import('../db/clients.ts'), import('./localFleet.ts')]);
    const pool = createMysqlPool(config, { connectionLimit: 1 });
    try {
      await seedExampleCluster(pool, config);
      await seedFractalCluster(pool, config);
    } finally {
      await pool.end();
    }
  }
}

async function ensureLocalTargetGroup(config: Config): Promise<void> {
  const [{ createAwsClients }, { ensureTargetGroup }] = await Promise.all([import('../activities/nodes/aws.ts'), import('./localFleet.ts')]);
  const aws = createAwsClients(config.aws);
  try {
    await ensureTargetGroup(aws, config.aws.region);
  } finally {
    aws.destroy();
  }
}

/** The fractals' bucket, when they are stored in this moto (not in a store of their own). */
async function ensureLocalFractalBucket(config: Config): Promise<void> {
  const { storage } = config.fractals;
  if (!storage.createBucket || storage.endpoint !== `http://${config.aws.moto.host}:${config.aws.moto.port}`) return;
  const { createFractalImageStore, createS3Client } = await import('../activities/fractals/storage.ts');
  const s3 = createS3Client(storage);
  try {
    await createFractalImageStore({ s3, bucket: storage.bucket }).ensureBucket();
  } finally {
    s3.destroy();
  }
}

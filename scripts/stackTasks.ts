// The one-off work of a stack's start, each run in a short-lived process (scripts/stackTaskMain.ts)
// so that the supervisor, which runs as long as the stack, never holds the clients it needs: the AWS
// SDK, Temporal's client and the services' models cost it about 150 MB. Each task imports only its
// own modules (the process starts sooner).
import type { Config } from '../config.ts';
import type { FirstAdmin } from './firstAdmin.ts';

export interface StackTaskResults {
  'prepare-fleet': { firstAdmin: FirstAdmin | undefined; seeded: { example: string[]; fractal: string[] } };
  'temporal-ready': Record<string, never>;
}
export interface StackTaskInputs {
  'prepare-fleet': { firstAdmin: boolean; seedAutoscaling: boolean };
  'temporal-ready': { timeoutMs: number };
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

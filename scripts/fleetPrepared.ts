// Whether a start's prepare-fleet task (scripts/stackTasks.ts) has anything to do. It seeds by name,
// each thing only when absent; once all of them exist, the supervisor answers for it with one query
// as the account it migrates with, instead of a process that loads the services and Temporal's
// client (about 2 CPU-seconds of a warm start that has nothing to seed).
import mysql from 'mysql2/promise';
import type { Config } from '../config.ts';
import { existingFirstAdmin, FIRST_ADMIN } from './firstAdminFile.ts';
import { EXAMPLE_CLUSTER, EXAMPLE_COUNTER, FRACTAL_BACKLOG_COUNTER, FRACTAL_CLUSTER, LOCAL_PROFILE, scaleInTrigger, scaleOutTrigger } from './localFleet.shared.ts';
import type { StackTaskInputs, StackTaskResults } from './stackTasks.ts';

/** What prepare-fleet seeds, by table and name, for a stack with moto and the local sshd. */
export function seededNames(seedAutoscaling: boolean) {
  return {
    sshProfiles: [LOCAL_PROFILE],
    ec2Profiles: [LOCAL_PROFILE],
    clusters: [EXAMPLE_CLUSTER, FRACTAL_CLUSTER],
    /** Clusters that must have a node registered. */
    clustersWithNodes: seedAutoscaling ? [EXAMPLE_CLUSTER, FRACTAL_CLUSTER] : [],
    counters: seedAutoscaling ? [EXAMPLE_COUNTER, FRACTAL_BACKLOG_COUNTER] : [],
    triggers: seedAutoscaling ? [EXAMPLE_CLUSTER, FRACTAL_CLUSTER].flatMap((cluster) => [scaleOutTrigger(cluster), scaleInTrigger(cluster)]) : [],
  };
}

/**
 * prepare-fleet's result when it would change nothing (every seeded row and the first admin exist;
 * the password file is kept or removed as the task does); undefined when the task has work to do.
 */
export async function preparedFleet(account: mysql.ConnectionOptions, config: Config, input: StackTaskInputs['prepare-fleet']): Promise<StackTaskResults['prepare-fleet'] | undefined> {
  const connection = await mysql.createConnection(account);
  try {
    return await checkPrepared(connection, config, input);
  } finally {
    await connection.end();
  }
}

async function checkPrepared(connection: mysql.Connection, config: Config, input: StackTaskInputs['prepare-fleet']): Promise<StackTaskResults['prepare-fleet'] | undefined> {
  const local = config.aws.moto.run && config.ssh.sshd.run;
  const names = seededNames(input.seedAutoscaling && local);
  const count = (table: string, column: string, values: string[]) =>
    values.length === 0 ? '0' : `(SELECT COUNT(DISTINCT ${column}) FROM ${table} WHERE ${column} IN (${values.map((value) => connection.escape(value)).join(', ')}))`;
  const checks = local
    ? [
        ['ssh_profiles', 'name', names.sshProfiles],
        ['ec2_profiles', 'name', names.ec2Profiles],
        ['clusters', 'name', names.clusters],
        ['nodes', 'cluster', names.clustersWithNodes],
        ['counters', 'name', names.counters],
        ['triggers', 'name', names.triggers],
      ] as const
    : [];
  const [[row]] = (await connection.query(
    `SELECT ${[...checks.map(([table, column, values], i) => `${count(table, column, [...values])} AS c${i}`), "(SELECT COUNT(*) FROM operators WHERE role = 'admin') AS admins", `(SELECT must_change_password FROM operators WHERE username = ${connection.escape(FIRST_ADMIN)}) AS must_change`].join(', ')}`,
  )) as unknown as [[Record<string, number | null>]];
  if (checks.some(([, , values], i) => Number(row[`c${i}`]) < values.length)) return undefined;
  if (!input.firstAdmin) return { firstAdmin: undefined, seeded: { example: [], fractal: [] } };
  if (Number(row.admins) === 0) return undefined;
  return { firstAdmin: existingFirstAdmin(config, Boolean(row.must_change)), seeded: { example: [], fractal: [] } };
}

// Clusters, nodes and their profiles in MySQL. Bounds are enforced here, in one transaction that
// locks the cluster's row, so two deployments racing for the last slot cannot both get it.
import { createHash } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { inTransaction as inPoolTransaction } from './transaction.ts';
import {
  MAX_NODE_NUMBER,
  profileKinds,
  type Cluster,
  type Ec2Profile,
  type NodeRecord,
  type NodeState,
  type ProfileInput,
  type ProfileKind,
  type ProfileOf,
  type ProfileView,
  type SecretSummary,
  type SshProfile,
  type SshTarget,
} from '../workflows/nodes.shared.ts';

export const fleetErrorCodes = ['UnknownCluster', 'UnknownProfile', 'UnknownNode', 'ClusterAtMax', 'ClusterAtMin', 'AlreadyExists', 'InUse'] as const;
export type FleetErrorCode = (typeof fleetErrorCodes)[number];

/** A request the model refuses; `code` is also the Temporal failure type, so workflows and the API agree. */
export class FleetModelError extends Error {
  override name = 'FleetModelError';
  constructor(
    readonly code: FleetErrorCode,
    message: string,
  ) {
    super(message);
  }
}

type Row = mysql.RowDataPacket;

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());

/** Where each kind of profile is kept: its table, and its fields stored as JSON. Columns are the fields in snake_case. */
const profileTables: Record<ProfileKind, { table: string; json: readonly string[] }> = {
  ec2: { table: 'ec2_profiles', json: ['securityGroups'] },
  ssh: { table: 'ssh_profiles', json: [] },
};
const columnOf = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

function profileFrom<Kind extends ProfileKind>(kind: Kind, row: Row): ProfileOf<Kind> {
  const { json } = profileTables[kind];
  const fields = profileKinds[kind].fields.map((field) => {
    const value: unknown = row[columnOf(field)];
    return [field, json.includes(field) && typeof value === 'string' ? JSON.parse(value) : value];
  });
  return { name: row.name as string, ...Object.fromEntries(fields) } as ProfileOf<Kind>;
}

/** A secret's summary: whether it is set, its SHA-256 (hex) and its length in bytes. */
export function secretSummary(value: string | null | undefined): SecretSummary {
  if (value === null || value === undefined || value === '') return { set: false, sha256: null, bytes: 0 };
  return { set: true, sha256: createHash('sha256').update(value).digest('hex'), bytes: Buffer.byteLength(value) };
}

/** A stored profile as the API and UI see it: each secret field summarised, its value gone. */
function profileView<Kind extends ProfileKind>(kind: Kind, profile: ProfileOf<Kind>): ProfileView<Kind> {
  const record: Record<string, unknown> = { ...profile };
  for (const field of profileKinds[kind].secrets) record[field] = secretSummary(record[field] as string | null);
  return record as unknown as ProfileView<Kind>;
}

/** A PUT's columns; a secret field it leaves out (undefined) is not among them, so an update keeps it. */
function profileColumns(kind: ProfileKind, profile: Record<string, unknown>): Record<string, unknown> {
  const { json } = profileTables[kind];
  const given = profileKinds[kind].fields.filter((field) => profile[field] !== undefined || !profileKinds[kind].secrets.includes(field));
  return Object.fromEntries(given.map((field) => [columnOf(field), json.includes(field) ? JSON.stringify(profile[field]) : profile[field]]));
}

/** A row as a record whose fields are its columns in camelCase. */
function fromColumns<T>(row: Row, fields: readonly (keyof T & string)[]): T {
  return Object.fromEntries(fields.map((field) => [field, row[columnOf(field)]])) as T;
}

const clusterFields = ['name', 'minNodes', 'maxNodes', 'ec2Profile', 'sshProfile', 'notifyEmail', 'puppetManifest', 'tomcatScript', 'deployScript', 'clusterUpdateScript'] as const;
const clusterFrom = (row: Row): Cluster => fromColumns<Cluster>(row, clusterFields);

const nodeFields = ['cluster', 'name', 'deploymentId', 'state', 'ec2Profile', 'sshProfile', 'instanceId', 'sshHost', 'sshPort', 'privateIp', 'hostKeySha256'] as const;
const nodeFrom = (row: Row): NodeRecord => ({ ...fromColumns<Omit<NodeRecord, 'createdAt'>>(row, nodeFields), createdAt: iso(row.created_at) });

/** `web` + 3 → `web03`: the original's naming, first free number from 01 to 99. */
export function firstFreeNodeName(cluster: string, taken: Iterable<string>): string | undefined {
  const used = new Set(taken);
  for (let n = 1; n <= MAX_NODE_NUMBER; n++) {
    const name = `${cluster}${String(n).padStart(2, '0')}`;
    if (!used.has(name)) return name;
  }
  return undefined;
}

export interface Reservation {
  node: NodeRecord;
  cluster: Cluster;
  ec2Profile: Ec2Profile;
  sshProfile: SshProfile;
}

export interface ClusterSummary extends Cluster {
  nodeCount: number;
  activeCount: number;
}

export function createFleetModel(pool: mysql.Pool) {
  const inTransaction = <T>(work: (connection: mysql.PoolConnection) => Promise<T>) => inPoolTransaction(pool, work);

  async function lockCluster(connection: mysql.PoolConnection, name: string): Promise<Cluster> {
    const [rows] = await connection.query<Row[]>('SELECT * FROM clusters WHERE name = ? FOR UPDATE', [name]);
    if (!rows[0]) throw new FleetModelError('UnknownCluster', `No cluster named ${JSON.stringify(name)}.`);
    return clusterFrom(rows[0]);
  }

  type Queryable = mysql.Pool | mysql.PoolConnection;

  async function findProfile<Kind extends ProfileKind>(queryable: Queryable, kind: Kind, name: string): Promise<ProfileOf<Kind> | undefined> {
    const [[row]] = await queryable.query<Row[]>(`SELECT * FROM ${profileTables[kind].table} WHERE name = ?`, [name]);
    return row ? profileFrom(kind, row) : undefined;
  }

  async function requireProfile<Kind extends ProfileKind>(queryable: Queryable, kind: Kind, name: string): Promise<ProfileOf<Kind>> {
    const profile = await findProfile(queryable, kind, name);
    if (!profile) throw new FleetModelError('UnknownProfile', `No ${profileKinds[kind].label} profile named ${JSON.stringify(name)}.`);
    return profile;
  }

  async function profiles(queryable: Queryable, ec2Name: string, sshName: string): Promise<{ ec2Profile: Ec2Profile; sshProfile: SshProfile }> {
    return { ec2Profile: await requireProfile(queryable, 'ec2', ec2Name), sshProfile: await requireProfile(queryable, 'ssh', sshName) };
  }

  /** Profiles as the API and UI show them: secrets summarised, never their values. */
  const listProfiles = async <Kind extends ProfileKind>(kind: Kind): Promise<ProfileView<Kind>[]> => {
    const [rows] = await pool.query<Row[]>(`SELECT * FROM ${profileTables[kind].table} ORDER BY name`);
    return rows.map((row) => profileView(kind, profileFrom(kind, row)));
  };
  /** A profile as the API and UI show it: secrets summarised. */
  const getProfile = async <Kind extends ProfileKind>(kind: Kind, name: string): Promise<ProfileView<Kind> | undefined> => {
    const profile = await findProfile(pool, kind, name);
    return profile ? profileView(kind, profile) : undefined;
  };
  /** An EC2 profile with its user data: for the worker's launch only, never for an answer. */
  const getProfileForLaunch = (name: string): Promise<Ec2Profile | undefined> => findProfile(pool, 'ec2', name);
  /** Creates or replaces a profile of either kind; a secret field left undefined keeps its stored value (null on create). */
  const putProfile = async <Kind extends ProfileKind>(kind: Kind, profile: ProfileInput<Kind>): Promise<void> => {
    const columns = profileColumns(kind, profile);
    const created = { ...Object.fromEntries(profileKinds[kind].secrets.map((field) => [columnOf(field), null])), ...columns };
    await pool.query(`INSERT INTO ${profileTables[kind].table} SET ? ON DUPLICATE KEY UPDATE ?`, [{ name: profile.name, ...created }, columns]);
  };

  return {
    async listClusters(): Promise<ClusterSummary[]> {
      const [rows] = await pool.query<Row[]>(
        `SELECT c.*, COUNT(n.id) AS node_count, COALESCE(SUM(n.state = 'active'), 0) AS active_count
           FROM clusters c LEFT JOIN nodes n ON n.cluster = c.name GROUP BY c.name ORDER BY c.name`,
      );
      return rows.map((row) => ({ ...clusterFrom(row), nodeCount: Number(row.node_count), activeCount: Number(row.active_count) }));
    },

    async getCluster(name: string): Promise<Cluster | undefined> {
      const [[row]] = await pool.query<Row[]>('SELECT * FROM clusters WHERE name = ?', [name]);
      return row ? clusterFrom(row) : undefined;
    },

    /** Creates a cluster (`AlreadyExists` if the name is taken) or, with `replace`, updates it. */
    async putCluster(cluster: Cluster, options: { replace: boolean }): Promise<void> {
      await profiles(pool, cluster.ec2Profile, cluster.sshProfile);
      const columns = {
        min_nodes: cluster.minNodes,
        max_nodes: cluster.maxNodes,
        ec2_profile: cluster.ec2Profile,
        ssh_profile: cluster.sshProfile,
        notify_email: cluster.notifyEmail,
        puppet_manifest: cluster.puppetManifest,
        tomcat_script: cluster.tomcatScript,
        deploy_script: cluster.deployScript,
        cluster_update_script: cluster.clusterUpdateScript,
      };
      if (options.replace) {
        const [result] = await pool.query<mysql.ResultSetHeader>('UPDATE clusters SET ? WHERE name = ?', [columns, cluster.name]);
        if (result.affectedRows === 0) throw new FleetModelError('UnknownCluster', `No cluster named ${JSON.stringify(cluster.name)}.`);
        return;
      }
      try {
        await pool.query('INSERT INTO clusters SET ?', [{ name: cluster.name, ...columns }]);
      } catch (error) {
        if ((error as { code?: string }).code === 'ER_DUP_ENTRY') throw new FleetModelError('AlreadyExists', `A cluster named ${JSON.stringify(cluster.name)} already exists.`);
        throw error;
      }
    },

    async deleteCluster(name: string): Promise<void> {
      await inTransaction(async (connection) => {
        await lockCluster(connection, name);
        const [[{ nodes }]] = (await connection.query<Row[]>('SELECT COUNT(*) AS nodes FROM nodes WHERE cluster = ?', [name])) as unknown as [[{ nodes: number }]];
        if (Number(nodes) > 0) throw new FleetModelError('InUse', `Cluster ${name} still has ${nodes} node(s): remove them first.`);
        const [[{ triggers }]] = (await connection.query<Row[]>('SELECT COUNT(*) AS triggers FROM triggers WHERE cluster = ?', [name])) as unknown as [[{ triggers: number }]];
        if (Number(triggers) > 0) throw new FleetModelError('InUse', `Cluster ${name} still has ${triggers} trigger(s): delete them first.`);
        await connection.query('DELETE FROM clusters WHERE name = ?', [name]);
      });
    },

    listProfiles,
    getProfile,
    getProfileForLaunch,
    putProfile,

    async listNodes(cluster?: string): Promise<NodeRecord[]> {
      const [rows] = cluster
        ? await pool.query<Row[]>('SELECT * FROM nodes WHERE cluster = ? ORDER BY name', [cluster])
        : await pool.query<Row[]>('SELECT * FROM nodes ORDER BY cluster, name');
      return rows.map(nodeFrom);
    },

    async getNode(cluster: string, name: string): Promise<NodeRecord | undefined> {
      const [[row]] = await pool.query<Row[]>('SELECT * FROM nodes WHERE cluster = ? AND name = ?', [cluster, name]);
      return row ? nodeFrom(row) : undefined;
    },

    /**
     * Checks the cluster's max and the profiles, and reserves the first free node name for this
     * deployment. A retry of the same deployment gets the same reservation back.
     */
    async reserveNode(request: { deploymentId: string; cluster: string; ec2Profile?: string; sshProfile?: string }): Promise<Reservation> {
      return inTransaction(async (connection) => {
        const cluster = await lockCluster(connection, request.cluster);
        const chosen = await profiles(connection, request.ec2Profile ?? cluster.ec2Profile, request.sshProfile ?? cluster.sshProfile);
        const [existing] = await connection.query<Row[]>('SELECT * FROM nodes WHERE deployment_id = ?', [request.deploymentId]);
        if (existing[0]) return { node: nodeFrom(existing[0]), cluster, ...chosen };
        const [rows] = await connection.query<Row[]>('SELECT name FROM nodes WHERE cluster = ?', [cluster.name]);
        if (rows.length >= cluster.maxNodes) {
          throw new FleetModelError('ClusterAtMax', `Cluster ${cluster.name} already has ${rows.length} node(s), its maximum is ${cluster.maxNodes}.`);
        }
        const name = firstFreeNodeName(cluster.name, rows.map((r) => r.name as string));
        if (!name) throw new FleetModelError('ClusterAtMax', `Cluster ${cluster.name} has no free node name left (01–${MAX_NODE_NUMBER}).`);
        await connection.query('INSERT INTO nodes SET ?', [
          { cluster: cluster.name, name, deployment_id: request.deploymentId, state: 'launching', ec2_profile: chosen.ec2Profile.name, ssh_profile: chosen.sshProfile.name },
        ]);
        const [[row]] = await connection.query<Row[]>('SELECT * FROM nodes WHERE deployment_id = ?', [request.deploymentId]);
        return { node: nodeFrom(row!), cluster, ...chosen };
      });
    },

    /**
     * Adds an existing host to a cluster as an active node, under the first free node name (the
     * cluster's max applies; `AlreadyExists` when the cluster has a node at that host and port). It
     * has no instance: removing it only deletes its row.
     */
    async registerNode(request: { deploymentId: string; cluster: string; hostname: string; port?: number; sshProfile?: string; hostKeySha256?: string }): Promise<NodeRecord> {
      return inTransaction(async (connection) => {
        const cluster = await lockCluster(connection, request.cluster);
        const sshProfile = await requireProfile(connection, 'ssh', request.sshProfile ?? cluster.sshProfile);
        const [rows] = await connection.query<Row[]>('SELECT name, ssh_host, ssh_port FROM nodes WHERE cluster = ?', [cluster.name]);
        const port = request.port ?? null;
        const same = rows.find((r) => (r.ssh_host as string | null)?.toLowerCase() === request.hostname.toLowerCase() && (r.ssh_port ?? null) === port);
        if (same) throw new FleetModelError('AlreadyExists', `Cluster ${cluster.name} already has ${request.hostname}${port ? `:${port}` : ''} as node ${same.name}.`);
        if (rows.length >= cluster.maxNodes) {
          throw new FleetModelError('ClusterAtMax', `Cluster ${cluster.name} already has ${rows.length} node(s), its maximum is ${cluster.maxNodes}.`);
        }
        const name = firstFreeNodeName(cluster.name, rows.map((r) => r.name as string));
        if (!name) throw new FleetModelError('ClusterAtMax', `Cluster ${cluster.name} has no free node name left (01–${MAX_NODE_NUMBER}).`);
        // The cluster's EC2 profile only fills the column: with no instance ID nothing ever uses it.
        await connection.query('INSERT INTO nodes SET ?', [
          {
            cluster: cluster.name, name, deployment_id: request.deploymentId, state: 'active', ec2_profile: cluster.ec2Profile, ssh_profile: sshProfile.name,
            ssh_host: request.hostname, ssh_port: port, host_key_sha256: request.hostKeySha256 ?? null,
          },
        ]);
        const [[row]] = await connection.query<Row[]>('SELECT * FROM nodes WHERE deployment_id = ?', [request.deploymentId]);
        return nodeFrom(row!);
      });
    },

    async recordInstance(deploymentId: string, instance: { instanceId: string; sshHost?: string; sshPort?: number; privateIp?: string | null }): Promise<void> {
      const columns: Record<string, unknown> = { instance_id: instance.instanceId };
      if (instance.sshHost !== undefined) Object.assign(columns, { ssh_host: instance.sshHost, ssh_port: instance.sshPort, private_ip: instance.privateIp ?? null });
      await pool.query('UPDATE nodes SET ? WHERE deployment_id = ?', [columns, deploymentId]);
    },

    async recordHostKey(deploymentId: string, hostKeySha256: string): Promise<void> {
      await pool.query('UPDATE nodes SET host_key_sha256 = ? WHERE deployment_id = ?', [hostKeySha256, deploymentId]);
    },

    async setNodeState(cluster: string, name: string, state: NodeState): Promise<void> {
      await pool.query('UPDATE nodes SET state = ? WHERE cluster = ? AND name = ?', [state, cluster, name]);
    },

    /** Deletes a deployment's node row; nothing to do if it is gone already. */
    async releaseReservation(deploymentId: string): Promise<void> {
      await pool.query('DELETE FROM nodes WHERE deployment_id = ?', [deploymentId]);
    },

    /** Checks the cluster's min and marks the node as being removed (a retry finds it marked). */
    async beginRemoval(request: { cluster: string; node: string }): Promise<Reservation> {
      return inTransaction(async (connection) => {
        const cluster = await lockCluster(connection, request.cluster);
        const [[row]] = await connection.query<Row[]>('SELECT * FROM nodes WHERE cluster = ? AND name = ?', [cluster.name, request.node]);
        if (!row) throw new FleetModelError('UnknownNode', `Cluster ${cluster.name} has no node named ${JSON.stringify(request.node)}.`);
        const node = nodeFrom(row);
        if (node.state !== 'active' && node.state !== 'removing') {
          throw new FleetModelError('InUse', `Node ${node.name} is ${node.state}: only an active node can be removed.`);
        }
        if (node.state === 'active') {
          const [[{ active }]] = (await connection.query<Row[]>("SELECT COUNT(*) AS active FROM nodes WHERE cluster = ? AND state = 'active'", [cluster.name])) as unknown as [[{ active: number }]];
          if (Number(active) <= cluster.minNodes) {
            throw new FleetModelError('ClusterAtMin', `Cluster ${cluster.name} has ${active} active node(s), its minimum is ${cluster.minNodes}.`);
          }
          await connection.query("UPDATE nodes SET state = 'removing' WHERE id = ?", [row.id]);
        }
        const chosen = await profiles(connection, node.ec2Profile, node.sshProfile);
        return { node: { ...node, state: 'removing' }, cluster, ...chosen };
      });
    },

    async deleteNode(cluster: string, name: string): Promise<void> {
      await pool.query('DELETE FROM nodes WHERE cluster = ? AND name = ?', [cluster, name]);
    },

    /** SSH targets of a cluster's active nodes (optionally only the named ones), for scripts. */
    async activeNodeTargets(cluster: string, only?: string[]): Promise<SshTarget[]> {
      const [[exists]] = await pool.query<Row[]>('SELECT name FROM clusters WHERE name = ?', [cluster]);
      if (!exists) throw new FleetModelError('UnknownCluster', `No cluster named ${JSON.stringify(cluster)}.`);
      const [rows] = await pool.query<Row[]>(
        `SELECT n.name, n.ssh_host, n.ssh_port, n.host_key_sha256, p.user, p.key_ref, p.port
           FROM nodes n JOIN ssh_profiles p ON p.name = n.ssh_profile
          WHERE n.cluster = ? AND n.state = 'active' AND n.ssh_host IS NOT NULL ORDER BY n.name`,
        [cluster],
      );
      const targets: SshTarget[] = rows.map((r) => ({
        node: r.name as string,
        host: r.ssh_host as string,
        port: (r.ssh_port ?? r.port ?? 22) as number,
        user: r.user as string,
        keyRef: r.key_ref as string,
        hostKeySha256: r.host_key_sha256 as string | null,
      }));
      if (!only) return targets;
      const unknown = only.filter((name) => !targets.some((t) => t.node === name));
      if (unknown.length > 0) throw new FleetModelError('UnknownNode', `Cluster ${cluster} has no active node named ${unknown.join(', ')}.`);
      return targets.filter((t) => only.includes(t.node));
    },
  };
}

export type FleetModel = ReturnType<typeof createFleetModel>;

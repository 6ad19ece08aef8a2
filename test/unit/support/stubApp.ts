// The whole app (createApp) over stub clients, for tests driven with app.request() and no servers: a
// Temporal client that records starts and knows the workflows it started or was given, a MySQL pool
// that records queries, a config cache in memory, access with one token per role (stubAccess.ts). No
// probe reaches anything: readiness reports every dependency down.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Pool } from 'mysql2/promise';
import { createApp } from '../../../server/app.ts';
import { AesGcmPayloadCodec } from '../../../temporal/codec.ts';
import { asToken } from '../../support/asToken.ts';
import { stubAccess, unitTokens } from './stubAccess.ts';
import type { ConfigCache, ConfigEntry } from '../../../services/configCache.ts';
import type { DependencyName } from '../../../workflows/healthCheck.shared.ts';
import type { TriggerStateStore } from '../../../db/triggerStates.ts';
import type { TriggerModel } from '../../../db/triggers.ts';
import type { TriggerScheduler } from '../../../services/triggers.ts';

export const RECEIVER = 'http://127.0.0.1:3000/receiver';

/** A workflow the Temporal stub knows: its status and what its queries answer, by query name. */
export interface StubWorkflow {
  /** Its workflow type; by default the one its ID scheme belongs to. */
  type?: string;
  status?: string;
  queries?: Record<string, unknown>;
}

export interface StubAppOptions {
  /** Answers MySQL queries (by default every query is refused). */
  rows?: (sql: string, values: unknown) => unknown;
  /** A MySQL pool of the test's own instead of the recording stub (rows and queries then unused). */
  mysql?: Pool;
  /** Workflows Temporal knows besides those started through the app (running, answering no query). */
  workflows?: Record<string, StubWorkflow>;
  /** What the config cache holds. */
  configEntries?: ConfigEntry[];
  /** Replaces the stub config cache (a real ConfigCache over a fake etcd, say). */
  configCache?: ConfigCache;
  /** NOTIFY_ALLOWED_DOMAINS of the app (default: fleet.test). */
  notifyAllowedDomains?: string[];
  /** DATA_PLANE_OPEN (default true, as on loopback). */
  dataPlaneOpen?: boolean;
  /** Counter and trigger definitions (by default in the MySQL stub). */
  triggerModel?: TriggerModel;
  /** What a trigger change syncs (by default nothing). */
  triggerScheduler?: TriggerScheduler;
  /** Trigger states (by default: none kept; a reset does nothing). */
  triggerStates?: TriggerStateStore;
  /** COUNTER_ALLOWED_HOSTS of the app (default: loopback). */
  counterAllowedHosts?: string[];
}

/** The workflow type each ID scheme belongs to (a request run is named by its run ID). */
function typeOfId(workflowId: string): string {
  const schemes: [string, string][] = [['cpu-load-', 'cpuLoad'], ['cf-converge-', 'cfConverge'], ['node-deploy:', 'deployNode'], ['node-remove:', 'removeNode'], ['script-run:', 'distributedScript'], ['health-check', 'healthCheck']];
  return schemes.find(([prefix]) => workflowId.startsWith(prefix))?.[1] ?? 'requestRun';
}

export function stubApp(options: StubAppOptions = {}) {
  const rows = options.rows ?? (() => {
    throw new Error('mysql must not be called');
  });
  const starts: { workflowType: string; options: { workflowId: string; args: unknown[] } }[] = [];
  const handles: string[] = [];
  const queries: { sql: string; values: unknown }[] = [];
  const stored: { key: string; value: string }[] = [];
  const workflows = new Map(Object.entries(options.workflows ?? {}));
  const known = (workflowId: string) => {
    const workflow = workflows.get(workflowId);
    if (!workflow) throw new WorkflowNotFoundError(`No workflow ${workflowId}`, workflowId, undefined);
    return workflow;
  };
  const temporal = {
    // Every cluster's sampling schedule: running, every 10 s.
    schedule: {
      getHandle: (scheduleId: string) => ({
        describe: async () => ({
          scheduleId,
          spec: { intervals: [{ every: 10_000 }] },
          state: { paused: false, note: undefined },
          info: { nextActionTimes: [new Date('2026-01-01T00:00:10.000Z')], recentActions: [] },
        }),
        pause: async () => undefined,
        unpause: async () => undefined,
      }),
    },
    workflow: {
      start: async (workflow: { name: string }, options: { workflowId: string; args: unknown[] }) => {
        starts.push({ workflowType: workflow.name, options });
        if (!workflows.has(options.workflowId)) workflows.set(options.workflowId, {});
        return { workflowId: options.workflowId, firstExecutionRunId: 'run-1' };
      },
      getHandle: (workflowId: string) => {
        handles.push(workflowId);
        return {
          workflowId,
          executeUpdate: async () => ({ state: 'ON' }),
          describe: async () => ({
            workflowId,
            type: known(workflowId).type ?? typeOfId(workflowId),
            runId: 'run-1',
            status: { name: known(workflowId).status ?? 'RUNNING' },
            startTime: new Date('2026-01-01T00:00:00.000Z'),
            closeTime: undefined,
            raw: { pendingActivities: [] },
          }),
          query: async (query: { name: string }) => {
            const answers = known(workflowId).queries ?? {};
            if (!(query.name in answers)) throw new Error(`the stub of ${workflowId} answers no ${query.name} query`);
            return answers[query.name];
          },
        };
      },
      list: async function* () {},
    },
  } as unknown as Client;
  const mysql = options.mysql ?? {
    query: async (sql: string, values: unknown) => {
      queries.push({ sql, values });
      return [rows(sql, values), []];
    },
  } as unknown as Pool;
  const entries = options.configEntries ?? [];
  const configCache = options.configCache ?? {
    instance: 'unit',
    revision: 1,
    maxValueBytes: 1024,
    put: async (key: string, value: string) => {
      stored.push({ key, value });
      return { revision: 2 };
    },
    get: async (key: string) => ({ json: entries.find((e) => e.key === key)?.json ?? null, source: 'cache' }),
    list: async () => ({ entries, total: entries.length, source: 'cache' }),
    status: () => ({ instance: 'unit', keyPrefix: 'config/', state: 'synced', revision: 1, keys: entries.length, resyncs: 0, lastResync: null, lastError: null, eventsApplied: 0 }),
  } as unknown as ConfigCache;
  const down = (name: DependencyName) => async () => ({ name, ok: false, latencyMs: 0, detail: 'a stub: nothing probed' });
  const access = stubAccess();
  const anonymous = createApp({
    temporal,
    namespace: 'default',
    probes: { mysql: down('mysql'), memcached: down('memcached'), etcd: down('etcd') },
    temporalWebUiUrl: 'http://127.0.0.1:8233',
    mysql,
    allowedDestinations: [RECEIVER],
    notifyAllowedDomains: options.notifyAllowedDomains ?? ['fleet.test'],
    counterAllowedHosts: options.counterAllowedHosts ?? ['127.0.0.1', 'localhost', '::1'],
    triggerModel: options.triggerModel,
    triggerScheduler: options.triggerScheduler ?? { sync: async () => undefined },
    triggerStates: options.triggerStates ?? ({ resetState: async () => undefined } as Partial<TriggerStateStore> as TriggerStateStore),
    configCache,
    access: access.service,
    dataPlaneOpen: options.dataPlaneOpen ?? true,
    payloadCodec: new AesGcmPayloadCodec([{ id: 'unit', key: Buffer.alloc(32, 7) }]),
  });
  // `app` calls as an admin (a bearer token); `anonymous` with no credentials.
  return { app: asToken(anonymous, unitTokens.admin), anonymous, audited: access.audited, starts, handles, queries, stored };
}

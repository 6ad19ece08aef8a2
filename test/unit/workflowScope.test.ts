// Each route acts only on workflows of its own domain. An ID of another domain's scheme is refused
// with 404 before Temporal is asked; an ID of the right scheme whose execution is of another type is
// refused with 404 after the describe, and nothing is queried, signalled, cancelled or updated. Checked
// on the app built over a stub Temporal client that records every call, driven with app.request().
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import type { ErrorBody } from '../../api/errors.ts';
import { createApp } from '../../server/app.ts';
import { convergeWorkflowId, isCfConvergeWorkflowId } from '../../workflows/cfConverge.shared.ts';
import { cpuLoadWorkflowId } from '../../workflows/cpuLoad.shared.ts';
import { healthCheckWorkflowId, isHealthCheckWorkflowId } from '../../workflows/healthCheck.shared.ts';
import { deployNodeWorkflowId, isRunbookWorkflowId, isScriptRunWorkflowId, removeNodeWorkflowId, scriptRunWorkflowId } from '../../workflows/nodes.shared.ts';
import { isRequestRunId, requestRunWorkflowId } from '../../workflows/requestRun.shared.ts';
import { asToken } from '../support/asToken.ts';
import { stubAccess, unitTokens } from './support/stubAccess.ts';

const RECEIVER = 'http://127.0.0.1:3000/receiver';
const RUN_ID = randomUUID();

/** One ID of each domain, as its builder makes it. */
const ids = {
  healthCheck: healthCheckWorkflowId(['etcd', 'mysql']),
  cfConverge: convergeWorkflowId({ foundation: 'default', org: 'scale-org', space: 'scale-space' }),
  requestRun: RUN_ID,
  deployment: deployNodeWorkflowId('web', randomUUID()),
  removal: removeNodeWorkflowId('web', 'web01'),
  scriptRun: scriptRunWorkflowId('web', randomUUID()),
  cpuLoad: cpuLoadWorkflowId('default'),
  requestRunWorkflow: requestRunWorkflowId(),
};
type Domain = keyof typeof ids;

/** A running request run's row in request_recorder. */
const runningRow = {
  run_id: RUN_ID, scope: 'default', timestamp: 1, status: 'running', mode: 'atomic', max_possible_count: 10, concurrency: 1, destination_url: RECEIVER,
  current_request_count: 0, sent_calls: 0, failed_calls: 0, started_at: new Date(0), ended_at: null, latency_p50_ms: null, timeline: null,
};

/**
 * The app over a Temporal client whose executions are all RUNNING workflows of `type`, recording
 * every call (`getHandle <id>`, `describe <id>`, `cancel <id>`…), and a MySQL pool answering `rows` to request-run queries.
 */
function stubApp({ type = 'none', rows = [] as unknown[] } = {}) {
  const calls: string[] = [];
  const queries: string[] = [];
  const temporal = {
    workflow: {
      start: async (_workflow: unknown, options: { workflowId: string }) => {
        calls.push(`start ${options.workflowId}`);
        return { workflowId: options.workflowId, firstExecutionRunId: RUN_ID };
      },
      getHandle: (workflowId: string, runId?: string) => {
        calls.push(`getHandle ${workflowId}`);
        const call = <T>(method: string, answer?: T) => async () => {
          calls.push(`${method} ${workflowId}`);
          return answer;
        };
        return {
          workflowId,
          describe: call('describe', {
            type, workflowId, runId: runId ?? RUN_ID, status: { name: 'RUNNING' }, startTime: new Date(0), closeTime: undefined,
            typedSearchAttributes: { get: () => undefined }, raw: {},
          }),
          query: call('query', { phases: {}, outcomes: [], failures: [], nodes: [], ok: 0, failed: 0, timeline: [], status: 'running' }),
          signal: call('signal'),
          cancel: call('cancel'),
          result: call('result', {}),
          executeUpdate: call('executeUpdate', { state: 'ON' }),
          fetchHistory: call('fetchHistory', { events: [] }),
        };
      },
      list: async function* () {},
    },
  } as unknown as Client;
  const mysql = {
    query: async (sql: string) => {
      queries.push(sql);
      // The rows are request runs': other tables (a script run's output) have none.
      return [sql.includes('request_recorder') ? rows : [], []];
    },
  } as unknown as Pool;
  const probe = () => Promise.reject(new Error('probes must not be called'));
  const app = asToken(
    createApp({
      temporal,
      namespace: 'default',
      probes: { mysql: probe, memcached: probe, etcd: probe },
      temporalWebUiUrl: 'http://127.0.0.1:8233',
      mysql,
      allowedDestinations: [RECEIVER],
      notifyAllowedDomains: ['fleet.test'],
      counterAllowedHosts: [],
      access: stubAccess().service,
      dataPlaneOpen: true,
    }),
    unitTokens.admin,
  );
  /** What reached Temporal beyond building handles and describing executions. */
  const actions = () => calls.filter((call) => !/^(getHandle|describe) /.test(call));
  return { app, calls, queries, actions };
}

const request = (app: ReturnType<typeof stubApp>['app'], method: string, path: string) => app.request(path, { method });

/** Every API route that takes a workflow or run ID: method, path with `:id`, whose IDs it takes, the ID's name in the error. */
const apiRoutes: [method: string, path: string, own: Domain[], field: string][] = [
  ['GET', '/api/health-checks/:id', ['healthCheck'], 'workflowId'],
  ['GET', '/api/cf-convergences/:id', ['cfConverge'], 'workflowId'],
  ['POST', '/api/cf-convergences/:id/pause', ['cfConverge'], 'workflowId'],
  ['POST', '/api/cf-convergences/:id/resume', ['cfConverge'], 'workflowId'],
  ['POST', '/api/cf-convergences/:id/cancel', ['cfConverge'], 'workflowId'],
  ['GET', '/api/request-runs/:id', ['requestRun'], 'runId'],
  ['POST', '/api/request-runs/:id/cancel', ['requestRun'], 'runId'],
  ['GET', '/api/runbooks/:id', ['deployment', 'removal'], 'workflowId'],
  ['GET', '/api/script-runs/:id', ['scriptRun'], 'workflowId'],
  ['POST', '/api/script-runs/:id/rerun-failed', ['scriptRun'], 'workflowId'],
];

/** The UI's pages, partials and buttons that take one, and how each answers a refusal (pages stay as they were). */
const uiRoutes: [method: string, path: string, own: Domain[], status: number, says: RegExp][] = [
  ['GET', '/cf-convergences/:id', ['cfConverge'], 404, /is not a convergence/],
  ['GET', '/ui/partials/cf-convergences/:id', ['cfConverge'], 404, /is not a convergence/],
  ['POST', '/ui/cf-convergences/:id/cancel', ['cfConverge'], 404, /is not a convergence/],
  ['POST', '/ui/cf-convergences/:id/pause', ['cfConverge'], 404, /is not a convergence/],
  ['GET', '/request-runs/:id', ['requestRun'], 404, /No request run/],
  ['GET', '/ui/partials/request-runs/:id', ['requestRun'], 200, /Run not found/],
  ['POST', '/ui/request-runs/:id/cancel', ['requestRun'], 200, /Run not found/],
  ['GET', '/nodes/runbooks/:id', ['deployment', 'removal'], 404, /is not a node deployment or removal/],
  ['GET', '/ui/partials/nodes/runbooks/:id', ['deployment', 'removal'], 200, /is not a node deployment or removal/],
  ['GET', '/nodes/script-runs/:id', ['scriptRun'], 404, /is not a script run/],
  ['GET', '/ui/partials/nodes/script-runs/:id', ['scriptRun'], 200, /is not a script run/],
  ['POST', '/ui/nodes/script-runs/:id/rerun-failed', ['scriptRun'], 200, /is not a script run/],
];

const foreign = (own: Domain[]) => (Object.keys(ids) as Domain[]).filter((domain) => !own.includes(domain)).map((domain) => ids[domain]);
const at = (path: string, id: string) => path.replace(':id', encodeURIComponent(id));

describe('ID schemes', () => {
  const recognisers = { healthCheck: isHealthCheckWorkflowId, cfConverge: isCfConvergeWorkflowId, requestRun: isRequestRunId, runbook: isRunbookWorkflowId, scriptRun: isScriptRunWorkflowId };
  const built: Record<keyof typeof recognisers, string[]> = {
    healthCheck: [healthCheckWorkflowId(), healthCheckWorkflowId(['mysql']), healthCheckWorkflowId(['mysql', 'etcd', 'mysql'])],
    cfConverge: [ids.cfConverge, convergeWorkflowId({ foundation: 'eu.1', org: 'A_org', space: 'x' })],
    requestRun: [RUN_ID, RUN_ID.toUpperCase()],
    runbook: [ids.deployment, ids.removal, deployNodeWorkflowId('web', 'cli-1')],
    scriptRun: [ids.scriptRun, scriptRunWorkflowId('db-2', 'cli.1')],
  };

  it.each(Object.entries(built))("recognise %s IDs as their builder makes them, and no other domain's", (domain, made) => {
    for (const [name, recognises] of Object.entries(recognisers)) {
      for (const id of made) expect(recognises(id), `${name}(${id})`).toBe(name === domain);
    }
  });

  it.each([
    ['healthCheck', ['health-check-mysql+etcd', 'health-check-etcd+etcd', 'health-check-redis', 'health-check-', 'health-check-etcd+memcached+mysql', 'health-check-cli', 'never-started']],
    ['cfConverge', ['cf-converge-', 'cf-converge-a-b', 'cf-converge-a-b-', `cf-converge-a-b-${'c'.repeat(65)}`, 'cf-converge-a-b-c/d', `cf-converge-${'a-'.repeat(5000)}!`]],
    ['requestRun', ['request-run', 'run-1', `${RUN_ID}x`, RUN_ID.replace(/-/g, '')]],
    ['runbook', ['node-deploy:Web:1', 'node-deploy:web:', 'node-remove:web:web', 'node-remove:web:web01:x', 'node-deploy:web:../x']],
    ['scriptRun', ['script-run:web', 'script-run::1', 'script-run:web:a/b', 'node-script:web:1']],
  ] as const)('%s refuses near misses', (domain, misses) => {
    for (const id of misses) expect(recognisers[domain](id), id).toBe(false);
  });
});

describe('an ID of another domain', () => {
  it.each(apiRoutes.map(([method, path, own, field]) => [`${method} ${path}`, method, path, own, field] as const))(
    '%s answers 404 naming it, and asks Temporal and MySQL nothing',
    async (_route, method, path, own, field) => {
      for (const id of foreign(own)) {
        const stub = stubApp({ type: 'cfConverge', rows: [runningRow] });
        const response = await request(stub.app, method, at(path, id));
        const { error } = (await response.json()) as ErrorBody;
        expect(response.status, id).toBe(404);
        expect(error, id).toMatchObject({ code: 'not_found', [field]: id });
        expect(error.message, id).toContain(id);
        expect(stub.calls, id).toEqual([]);
        expect(stub.queries, id).toEqual([]);
      }
    },
  );

  it.each(uiRoutes.map(([method, path, own, status, says]) => [`${method} ${path}`, method, path, own, status, says] as const))(
    'the UI %s refuses it as it refuses an unknown one, and asks Temporal nothing',
    async (_route, method, path, own, status, says) => {
      for (const id of foreign(own)) {
        const stub = stubApp({ type: 'cfConverge', rows: [runningRow] });
        const response = await request(stub.app, method, at(path, id));
        expect(response.status, id).toBe(status);
        expect(await response.text(), id).toMatch(says);
        expect(stub.calls, id).toEqual([]);
        expect(stub.queries, id).toEqual([]);
      }
    },
  );
});

describe('an ID of the right scheme whose workflow is of another type', () => {
  // A deployment under a convergence's ID, a convergence under a deployment's, and so on.
  const cases: [method: string, path: string, id: string, type: string][] = [
    ['GET', '/api/health-checks/:id', ids.healthCheck, 'deployNode'],
    ['GET', '/api/cf-convergences/:id', ids.cfConverge, 'deployNode'],
    ['POST', '/api/cf-convergences/:id/pause', ids.cfConverge, 'deployNode'],
    ['POST', '/api/cf-convergences/:id/resume', ids.cfConverge, 'requestRun'],
    ['POST', '/api/cf-convergences/:id/cancel', ids.cfConverge, 'deployNode'],
    ['POST', '/api/request-runs/:id/cancel', ids.requestRun, 'distributedScript'],
    ['GET', '/api/runbooks/:id', ids.deployment, 'removeNode'],
    ['GET', '/api/runbooks/:id', ids.removal, 'deployNode'],
    ['GET', '/api/script-runs/:id', ids.scriptRun, 'cfConverge'],
    ['POST', '/api/script-runs/:id/rerun-failed', ids.scriptRun, 'deployNode'],
    ['GET', '/api/cpu-load/default', ids.cpuLoad, 'cfConverge'],
    ['PUT', '/api/cpu-load/default', ids.cpuLoad, 'cfConverge'],
  ];

  it.each(cases.map(([method, path, id, type]) => [`${method} ${at(path, id)}`, type, method, path, id] as const))(
    '%s (a %s) answers 404, and nothing is queried, signalled, cancelled or updated',
    async (_route, type, method, path, id) => {
      const stub = stubApp({ type, rows: [runningRow] });
      const init: RequestInit = method === 'PUT' ? { method, body: '{"state": "ON"}', headers: { 'content-type': 'application/json' } } : { method };
      const response = await stub.app.request(at(path, id), init);
      const { error } = (await response.json()) as ErrorBody;
      expect(response.status).toBe(404);
      expect(error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/^No \w+( or \w+)? workflow with ID /) });
      expect(stub.calls).toContain(`describe ${id === RUN_ID ? requestRunWorkflowId() : id}`);
      expect(stub.actions().filter((call) => !call.startsWith('start '))).toEqual([]);
    },
  );

  it('a request run starting (no row yet) is not found, and not asked for its progress', async () => {
    const stub = stubApp({ type: 'cfConverge' });
    expect((await request(stub.app, 'GET', `/api/request-runs/${RUN_ID}`)).status).toBe(404);
    expect(stub.calls).toContain('describe request-run');
    expect(stub.actions()).toEqual([]);
  });

  it('a request run with a row is shown from the row alone', async () => {
    const stub = stubApp({ type: 'cfConverge', rows: [runningRow] });
    const response = await request(stub.app, 'GET', `/api/request-runs/${RUN_ID}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ runId: RUN_ID, status: 'running' });
    expect(stub.actions()).toEqual([]);
  });
});

describe('an ID of the right scheme and type', () => {
  it.each([
    ['POST', `/api/cf-convergences/${ids.cfConverge}/cancel`, 'cfConverge', 202, `cancel ${ids.cfConverge}`],
    ['POST', `/api/cf-convergences/${ids.cfConverge}/pause`, 'cfConverge', 202, `signal ${ids.cfConverge}`],
    ['POST', `/api/request-runs/${RUN_ID}/cancel`, 'requestRun', 202, 'cancel request-run'],
    ['GET', `/api/health-checks/${encodeURIComponent(ids.healthCheck)}`, 'healthCheck', 200, `query ${ids.healthCheck}`],
    ['GET', `/api/runbooks/${encodeURIComponent(ids.deployment)}`, 'deployNode', 200, `query ${ids.deployment}`],
    ['GET', `/api/script-runs/${encodeURIComponent(ids.scriptRun)}`, 'distributedScript', 200, `query ${ids.scriptRun}`],
  ])('%s %s (a %s) is acted on', async (method, path, type, status, action) => {
    const stub = stubApp({ type, rows: [runningRow] });
    const response = await request(stub.app, method, path);
    expect(response.status, await response.text()).toBe(status);
    expect(stub.actions()).toContain(action);
  });

  it('PUT /api/cpu-load/default (a cpuLoad) is switched', async () => {
    const stub = stubApp({ type: 'cpuLoad' });
    const response = await stub.app.request('/api/cpu-load/default', { method: 'PUT', body: '{"state": "ON"}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    expect(stub.actions()).toEqual([`start ${ids.cpuLoad}`, `executeUpdate ${ids.cpuLoad}`]);
  });
});

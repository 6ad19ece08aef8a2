// Cloud Foundry convergences in the UI: start one from a form or JSON (/cf-convergences), then watch
// its phases as progress bars, its plan, and its apps; pause, resume or cancel it
// (/cf-convergences/:workflowId).
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { parseInput, ServiceError } from '../../services/errors.ts';
import type { CfConvergeService, ConvergenceView } from '../../services/cfConverge.ts';
import { appActions, seedQuota, type ConvergeInput, type SeedParams } from '../../workflows/cfConverge.shared.ts';
import { ExecutionsTable, executionColumns } from '../components/executionsTable.tsx';
import { StatusBadge } from '../components/format.tsx';
import { ProgressBar } from '../components/progressBar.tsx';
import { TemporalHistoryFact } from '../components/temporalHistory.tsx';
import { numberOrAsSent, type Form, readForm } from '../forms.ts';
import { Layout } from '../layout.tsx';
import { access } from '../../server/access.ts';

const convergencePath = (workflowId: string) => `/cf-convergences/${encodeURIComponent(workflowId)}`;

/**
 * The seed's scaling-test parameters: 100 proxy and 100 tick apps, 2 instances each, concurrency 20,
 * with the original's quota: 400 instances × 32 MB exceed CC's default organization quota (10240 MB).
 */
export const seedDesiredState: ConvergeInput = {
  prefix: 'scale-',
  kinds: [
    { kind: 'proxy', count: 100, instances: 2, env: { GOPACKAGENAME: 'example-apps/proxy' } },
    { kind: 'tick', count: 100, instances: 2, env: { GOPACKAGENAME: 'example-apps/tick' } },
  ],
  quota: seedQuota('scale-'),
  concurrency: 20,
};

/** The seed's own parameter file (cf-pusher's config), as the seed gives it. */
export const seedParams: SeedParams = {
  proxy_instances: 2,
  proxy_applications: 100,
  test_app_instances: 2,
  test_applications: 100,
  test_app_registry_ttl_seconds: 180,
  policy_update_wait_seconds: 10,
  extra_listen_ports: 2,
  sample_percent: 20,
  prefix: 'scale-',
  concurrency: 20,
  asg_size: 5,
};

const actionLabels: Record<string, string> = {
  create: 'Create apps',
  'push-prototype': 'Push prototypes',
  'copy-droplet': 'Copy droplets',
  scale: 'Scale',
  route: 'Route',
  start: 'Start (and wait for RUNNING)',
  update: 'Update (env, droplet, rolling deployment)',
  delete: 'Delete extras',
};

function PhaseBars({ view }: { view: ConvergenceView }) {
  const phases = appActions.filter((a) => view.phases[a].total > 0);
  if (phases.length === 0) return <p class="muted">{view.status === 'converged' ? 'Nothing to do: the foundation already matches.' : 'Planning…'}</p>;
  return (
    <div class="phases">
      {phases.map((action) => {
        const p = view.phases[action];
        return (
          <div class="phase" data-phase={action}>
            <span class="phase-label">{actionLabels[action]}</span>
            <ProgressBar tone="counted" total={p.total} done={p.done} failed={p.failed}>
              {p.done} / {p.total}
              {p.failed > 0 ? ` (${p.failed} failed)` : ''}
            </ProgressBar>
          </div>
        );
      })}
    </div>
  );
}

/** Apps holding one of our names that are not ours: listed so an operator can rename, delete or adopt them. */
function Conflicts({ view }: { view: ConvergenceView }) {
  const conflicts = view.plan?.conflicts ?? [];
  if (conflicts.length === 0) return null;
  return (
    <>
      <h3>Conflicts ({conflicts.length} apps hold our names but are not ours: left untouched)</h3>
      <table class="apps" data-conflicts={conflicts.length}>
        <thead>
          <tr>
            <th>App</th>
            <th>GUID</th>
            <th>Why it is not ours</th>
          </tr>
        </thead>
        <tbody>
          {conflicts.slice(0, 300).map((conflict) => (
            <tr data-conflict={conflict.name}>
              <td>{conflict.name}</td>
              <td>
                <code>{conflict.guid}</code>
              </td>
              <td>{conflict.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function AppTable({ view }: { view: ConvergenceView }) {
  const apps = view.plan?.apps ?? [];
  if (apps.length === 0) return null;
  const outcomes = new Map(view.outcomes.map((o) => [o.name, o]));
  const shown = apps.slice(0, 300);
  return (
    <>
      <h3>Apps ({apps.length} with work to do{apps.length > shown.length ? `, first ${shown.length} shown` : ''})</h3>
      <table class="apps">
        <thead>
          <tr>
            <th>App</th>
            <th>Kind</th>
            <th>Planned</th>
            <th>Outcome</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((app) => {
            const outcome = outcomes.get(app.name);
            return (
              <tr data-app={app.name}>
                <td>{app.name}</td>
                <td>{app.kind}</td>
                <td>{app.actions.join(', ')}</td>
                <td>
                  {outcome ? (
                    outcome.ok ? (
                      <StatusBadge status="completed" label="done" />
                    ) : (
                      <StatusBadge status="failed" label={`${outcome.failedAction} failed`} title={outcome.error} />
                    )
                  ) : (
                    <span class="muted">pending</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

/** The org's quota and the space's security group: what the plan does with each, and whether it is done. */
function SettingsFacts({ view }: { view: ConvergenceView }) {
  const plan = view.plan;
  if (!plan) return null;
  const fact = (label: string, setting: { name: string; actions: string[] } | null, done: boolean, detail: string) =>
    setting ? (
      <>
        <dt>{label}</dt>
        <dd data-setting={label === 'Quota' ? 'quota' : 'security-group'} data-done={String(done)}>
          {setting.name} ({detail}): {setting.actions.length > 0 ? setting.actions.join(', ') : 'already as desired'}
          {setting.actions.length > 0 ? (done ? ' — done' : view.status === 'planned' ? '' : ' — pending') : ''}
        </dd>
      </>
    ) : null;
  const limits = plan.quota?.desired;
  const memory = limits?.apps?.total_memory_in_mb;
  return (
    <>
      {fact('Quota', plan.quota, view.settingsDone?.quota ?? false, memory === undefined ? 'org quota' : `${memory === null ? 'unlimited' : `${memory} MB`} memory, ${limits?.routes?.total_routes ?? 'unlimited'} routes`)}
      {fact('Security group', plan.securityGroup, view.settingsDone?.securityGroup ?? false, `${plan.securityGroup?.desired.rules.length ?? 0} rules, running`)}
    </>
  );
}

export function ConvergenceDetails({ view }: { view: ConvergenceView }) {
  const running = view.execution === 'RUNNING';
  const act = (action: string, label: string, cls = 'primary') => (
    <button class={cls} hx-post={`/ui/cf-convergences/${view.workflowId}/${action}`} hx-target="#convergence" hx-swap="outerHTML">
      {label}
    </button>
  );
  return (
    <div id="convergence" data-status={view.status} {...(running ? { 'hx-get': `/ui/partials/cf-convergences/${encodeURIComponent(view.workflowId)}`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {})}>
      <div class="section-head">
        <h1>
          {view.workflowId} <StatusBadge status={view.status} />
        </h1>
        <div class="actions-row">
          {running && view.status !== 'paused' ? act('pause', 'Pause') : null}
          {running && view.status === 'paused' ? act('resume', 'Resume') : null}
          {running ? act('cancel', 'Cancel', 'danger') : null}
        </div>
      </div>
      {view.error ? <p class="error-text">{view.error}</p> : null}
      <dl class="facts">
        <dt>Round</dt>
        <dd>{view.round}</dd>
        <dt>Mutating CF calls</dt>
        <dd data-mutating-calls={view.mutatingCalls}>{view.mutatingCalls}</dd>
        {view.plan ? (
          <>
            <dt>Plan</dt>
            <dd>
              {[
                view.plan.createOrganization ? 'create the org' : null,
                view.plan.createSpace ? 'create the space' : null,
                view.plan.prototypes.length > 0 ? `push ${view.plan.prototypes.map((p) => p.app).join(', ')}` : null,
                ...appActions.filter((a) => view.plan!.counts[a] > 0 && a !== 'push-prototype').map((a) => `${a} ${view.plan!.counts[a]}`),
                (view.plan.conflicts?.length ?? 0) > 0 ? `${view.plan.conflicts.length} conflicts (not ours, untouched)` : null,
              ]
                .filter(Boolean)
                .join(' · ') || 'nothing to do'}
            </dd>
            <dt>Apps by kind</dt>
            <dd data-kinds>
              {Object.entries(view.plan.apps.reduce<Record<string, number>>((byKind, app) => ({ ...byKind, [app.kind]: (byKind[app.kind] ?? 0) + 1 }), {}))
                .map(([kind, count]) => `${kind} ${count}`)
                .join(' · ') || 'none with work to do'}
            </dd>
          </>
        ) : null}
        <SettingsFacts view={view} />
        <TemporalHistoryFact url={view.webUiUrl} />
      </dl>
      <PhaseBars view={view} />
      <Conflicts view={view} />
      <AppTable view={view} />
    </div>
  );
}

const parseJson = (text: string, what: string) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ServiceError(400, 'invalid_json', `The ${what} is not valid JSON.`);
  }
};

/** The simple form's fields into a desired state (numbers stay strings when they are not numbers, so validation names them). */
async function formToDesired(form: Form): Promise<unknown> {
  if (form.seedFile instanceof File && form.seedFile.size > 0) return parseJson(await form.seedFile.text(), 'parameter file');
  if (typeof form.seed === 'string' && form.seed.trim() !== '') return parseJson(form.seed, 'parameter file');
  if (typeof form.json === 'string' && form.json.trim() !== '') return parseJson(form.json, 'desired state');
  const kinds = ['proxy', 'tick'].map((kind) => ({ kind, count: numberOrAsSent(form[`${kind}Count`]), instances: numberOrAsSent(form[`${kind}Instances`]) }));
  return {
    prefix: form.prefix,
    kinds,
    concurrency: numberOrAsSent(form.concurrency),
    dryRun: form.dryRun === 'on',
  };
}

export function cfConvergePages(deps: { service: CfConvergeService; temporalWebUiUrl: string }) {
  const page = (title: string, body: Child) => (
    <Layout title={title} active="/cf-convergences" temporalWebUiUrl={deps.temporalWebUiUrl}>
      {body}
    </Layout>
  );
  return new Hono()
    .get('/cf-convergences', access('viewer'), async (c) => {
      const recent = await deps.service.recent(15);
      return c.html(
        page(
          'Cloud Foundry',
          <>
            <section>
              <h1>Converge a Cloud Foundry space</h1>
              <p class="muted">
                Declare how many apps of each kind you want. A prototype of each kind is pushed once and its droplet copied to the rest; running it again
                converges (nothing is redone), lower counts delete the extras.
              </p>
              <form class="stacked" hx-post="/ui/cf-convergences" hx-target="#cf-result" hx-swap="innerHTML">
                <label for="prefix">Prefix</label>
                <input id="prefix" name="prefix" value="scale-" />
                <label for="proxyCount">proxy apps × instances</label>
                <span>
                  <input id="proxyCount" name="proxyCount" type="number" min="0" value="100" /> × <input name="proxyInstances" type="number" min="0" value="2" />
                </span>
                <label for="tickCount">tick apps × instances</label>
                <span>
                  <input id="tickCount" name="tickCount" type="number" min="0" value="100" /> × <input name="tickInstances" type="number" min="0" value="2" />
                </span>
                <label for="concurrency">Concurrency</label>
                <input id="concurrency" name="concurrency" type="number" min="1" value="20" />
                <label for="dryRun">Dry run (plan only)</label>
                <input id="dryRun" name="dryRun" type="checkbox" />
                <div class="actions">
                  <button class="primary" type="submit">
                    Converge
                  </button>
                </div>
              </form>
              <details>
                <summary>…or the seed's parameter file (cf-pusher's config)</summary>
                <p class="muted">
                  As the original read it: the registry, the tick apps wired to it (REGISTRY_BASE_URL, REGISTRY_TTL_SECONDS, START_PORT, LISTEN_PORTS), the
                  proxy apps, the quota &lt;prefix&gt;quota applied to the org and, with asg_size, the security group &lt;prefix&gt;asg bound to the space.
                  Credentials (api, admin_user, admin_password, admin_secret) are refused: they come from the foundation configuration. Add
                  "dryRun": true to see the plan only.
                </p>
                <form hx-post="/ui/cf-convergences" hx-target="#cf-result" hx-swap="innerHTML" hx-encoding="multipart/form-data">
                  <label for="seedFile">Upload the file</label> <input id="seedFile" name="seedFile" type="file" accept=".json,application/json" />
                  <label for="seed">or paste it</label>
                  <textarea id="seed" name="seed" rows={14} cols={80}>
                    {JSON.stringify(seedParams, null, 2)}
                  </textarea>
                  <div>
                    <button class="primary" type="submit">
                      Converge from the parameter file
                    </button>
                  </div>
                </form>
              </details>
              <details>
                <summary>…or paste a desired state as JSON</summary>
                <form hx-post="/ui/cf-convergences" hx-target="#cf-result" hx-swap="innerHTML">
                  <textarea name="json" rows={14} cols={80}>
                    {JSON.stringify(seedDesiredState, null, 2)}
                  </textarea>
                  <div>
                    <button class="primary" type="submit">
                      Converge from JSON
                    </button>
                  </div>
                </form>
              </details>
              <p id="cf-result" class="notice" aria-live="polite"></p>
            </section>
            <section>
              <h2>Recent convergences</h2>
              <ExecutionsTable
                executions={recent}
                columns={[executionColumns.workflowId((e) => convergencePath(e.workflowId), 'Convergence'), executionColumns.state, executionColumns.started]}
                empty="None yet."
              />
            </section>
          </>,
        ),
      );
    })
    .post('/ui/cf-convergences', access('operator'), async (c) => {
      // htmx swaps only 2xx answers, so problems are reported in 200 fragments.
      try {
        const started = await deps.service.start(parseInput(deps.service.inputSchema, await formToDesired(await readForm(c))));
        return c.html(
          <span>
            Started <a href={convergencePath(started.workflowId)}>{started.workflowId}</a>.
          </span>,
        );
      } catch (error) {
        if (error instanceof ServiceError) return c.html(<span class="error-text">{error.message}</span>);
        throw error;
      }
    })
    .get('/cf-convergences/:workflowId', access('viewer'), async (c) => c.html(page(c.req.param('workflowId'), <section><ConvergenceDetails view={await deps.service.view(c.req.param('workflowId'))} /></section>)))
    .get('/ui/partials/cf-convergences/:workflowId', access('viewer'), async (c) => c.html(<ConvergenceDetails view={await deps.service.view(c.req.param('workflowId'))} />))
    .post('/ui/cf-convergences/:workflowId/:action{pause|resume|cancel}', access('operator'), async (c) => {
      const workflowId = c.req.param('workflowId');
      await deps.service.signal(workflowId, c.req.param('action') as 'pause' | 'resume' | 'cancel').catch((error: unknown) => {
        if (!(error instanceof ServiceError)) throw error;
      });
      return c.html(<ConvergenceDetails view={await deps.service.view(workflowId)} />);
    });
}

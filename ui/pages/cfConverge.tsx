// Cloud Foundry convergences in the UI: start one from a form or JSON (/cf-convergences), then watch
// its phases as progress bars, its plan, and its apps; pause, resume or cancel it
// (/cf-convergences/:workflowId).
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { parseInput, ServiceError } from '../../services/errors.ts';
import type { CfConvergeService, ConvergenceView } from '../../services/cfConverge.ts';
import { appActions, type ConvergeInput } from '../../workflows/cfConverge.shared.ts';
import { ExecutionsTable, executionColumns } from '../components/executionsTable.tsx';
import { StatusBadge } from '../components/format.tsx';
import { ProgressBar } from '../components/progressBar.tsx';
import { TemporalHistoryFact } from '../components/temporalHistory.tsx';
import { numberOrAsSent, type Form, readForm } from '../forms.ts';
import { Layout } from '../layout.tsx';
import { access } from '../../server/access.ts';

const convergencePath = (workflowId: string) => `/cf-convergences/${encodeURIComponent(workflowId)}`;

/** The seed's scaling-test parameters: 100 proxy and 100 tick apps, 2 instances each, concurrency 20. */
export const seedDesiredState: ConvergeInput = {
  prefix: 'scale-',
  kinds: [
    { kind: 'proxy', count: 100, instances: 2, env: { GOPACKAGENAME: 'example-apps/proxy' } },
    { kind: 'tick', count: 100, instances: 2, env: { GOPACKAGENAME: 'example-apps/tick' } },
  ],
  concurrency: 20,
};

const actionLabels: Record<string, string> = {
  create: 'Create apps',
  'push-prototype': 'Push prototypes',
  'copy-droplet': 'Copy droplets',
  scale: 'Scale',
  route: 'Route',
  start: 'Start (and wait for RUNNING)',
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
              ]
                .filter(Boolean)
                .join(' · ') || 'nothing to do'}
            </dd>
          </>
        ) : null}
        <TemporalHistoryFact url={view.webUiUrl} />
      </dl>
      <PhaseBars view={view} />
      <AppTable view={view} />
    </div>
  );
}

/** The simple form's fields into a desired state (numbers stay strings when they are not numbers, so validation names them). */
function formToDesired(form: Form): unknown {
  if (typeof form.json === 'string' && form.json.trim() !== '') {
    try {
      return JSON.parse(form.json);
    } catch {
      throw new ServiceError(400, 'invalid_json', 'The desired state is not valid JSON.');
    }
  }
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
        const started = await deps.service.start(parseInput(deps.service.inputSchema, formToDesired(await readForm(c))));
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

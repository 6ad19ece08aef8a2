// Runbooks: a node's deployment or removal. Started from a cluster's page (Deploy, Remove), listed
// there and on /nodes, and followed step by step on /nodes/runbooks/:workflowId.
import { Hono } from 'hono';
import { parseInput, ServiceError } from '../../../services/errors.ts';
import type { RunbookView } from '../../../services/nodes.ts';
import { deploySchema } from '../../../workflows/nodes.shared.ts';
import type { ExecutionSummary } from '../../../services/executions.ts';
import type { StepProgress } from '../../../workflows/nodes.shared.ts';
import { ExecutionsTable, executionColumns, type ExecutionColumn } from '../../components/executionsTable.tsx';
import { Duration, StatusBadge, Time } from '../../components/format.tsx';
import { ProgressBar } from '../../components/progressBar.tsx';
import { TemporalHistoryFact } from '../../components/temporalHistory.tsx';
import { clusterPath, goTo, pollWhile, refusal, runbookPath, text, type NodesFrame, type NodesPagesDependencies } from './shared.tsx';
import { access } from '../../../server/access.ts';
import { readForm } from '../../forms.ts';

/** `node-deploy:web:<id>` → deploy on web; `node-remove:web:web01` → remove web01. */
function describeRunbook(workflowId: string) {
  const [prefix, cluster = '', subject = ''] = workflowId.split(':');
  return prefix === 'node-remove' ? { kind: 'Removal', cluster, subject } : { kind: 'Deployment', cluster, subject: subject.slice(0, 8) };
}

const runbookColumn: ExecutionColumn = {
  header: 'Runbook',
  cell: (e) => {
    const { kind, subject } = describeRunbook(e.workflowId);
    return (
      <a href={runbookPath(e.workflowId)}>
        {kind} <code>{subject}</code>
      </a>
    );
  },
};

const clusterColumn: ExecutionColumn = {
  header: 'Cluster',
  cell: (e) => {
    const { cluster } = describeRunbook(e.workflowId);
    return <a href={clusterPath(cluster)}>{cluster}</a>;
  },
};

/** Recent deployments and removals; on a cluster's own page without the cluster column. */
export function RunbooksTable({ runbooks, showCluster = true }: { runbooks: ExecutionSummary[]; showCluster?: boolean }) {
  const { state, started, temporal } = executionColumns;
  const columns = showCluster ? [runbookColumn, clusterColumn, state, started, temporal] : [runbookColumn, state, started, temporal];
  return <ExecutionsTable name="runbooks" executions={runbooks} columns={columns} empty="None yet." />;
}

/** Steps that ended well (skipped ones need nothing more) count as done. */
const finishedStep = (step: StepProgress) => step.status === 'done' || step.status === 'skipped';

export function RunbookDetails({ view }: { view: RunbookView }) {
  const live = view.execution === 'RUNNING';
  const finished = view.steps.filter(finishedStep).length;
  const failed = view.steps.filter((s) => s.status === 'failed' || s.status === 'compensation-failed').length;
  const title = view.kind === 'deploy' ? `Deployment of ${view.node ?? 'a new node'} to ${view.cluster}` : `Removal of ${view.node ?? 'a node'} from ${view.cluster}`;
  const failedStep = view.failure ? view.steps.find((s) => s.name === view.failure!.step) : undefined;
  return (
    <div id="runbook" data-state={view.state} data-execution={view.execution} {...pollWhile(live, `/ui/partials/nodes/runbooks/${encodeURIComponent(view.workflowId)}`)}>
      <div class="section-head">
        <h1>
          {title} <StatusBadge status={view.state} />
        </h1>
        <a href={clusterPath(view.cluster)}>Cluster {view.cluster} →</a>
      </div>
      <ProgressBar name="steps" title="steps done or skipped" tone="counted" total={view.steps.length} done={finished} failed={failed}>
        {finished} / {view.steps.length} steps
      </ProgressBar>
      {view.failure ? (
        <p class="failure" role="alert">
          <strong>Failed at “{failedStep?.label ?? view.failure.step}”:</strong> {view.failure.message}
        </p>
      ) : null}
      <dl class="facts">
        <dt>Node</dt>
        <dd>{view.node ?? <span class="muted">not reserved yet</span>}</dd>
        <dt>Instance</dt>
        <dd>{view.instanceId ? <code>{view.instanceId}</code> : <span class="muted">–</span>}</dd>
        <dt>Started</dt>
        <dd>
          <Time iso={view.startTime} />
        </dd>
        <dt>Ended</dt>
        <dd>
          <Time iso={view.closeTime} missing="running" />
          {!live && view.execution !== 'COMPLETED' && view.execution !== 'FAILED' ? <> ({view.execution.toLowerCase()})</> : null}
        </dd>
        <TemporalHistoryFact url={view.webUiUrl} />
      </dl>
      <ol class="steps">
        {view.steps.map((step) => (
          <li data-step={step.name} data-status={step.status}>
            <StatusBadge status={step.status} />
            <span class="step-label">{step.label}</span>
            <span class="step-time muted">{step.startedAt ? <Duration from={step.startedAt} to={step.endedAt} /> : null}</span>
            {step.detail ? <div class="step-detail muted">{step.detail}</div> : null}
            {step.error ? <div class="step-detail error-text">{step.error}</div> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}

export function runbooksRoutes(deps: NodesPagesDependencies, frame: NodesFrame) {
  const { service } = deps;
  const { page, pageOr404, fragmentOrError } = frame;
  return new Hono()
    .post('/ui/nodes/clusters/:name/deployments', access('operator'), async (c) => {
      const form = await readForm(c);
      try {
        const body = parseInput(deploySchema, { deploymentId: text(form, 'deploymentId') || undefined, timings: deps.deployTimings });
        const started = await service.startDeployment(c.req.param('name'), body);
        return goTo(c, runbookPath(started.workflowId), 'the deployment');
      } catch (error) {
        // The button's deployment ID makes a second click the same deployment: show it.
        if (error instanceof ServiceError && error.code === 'deployment_exists') return goTo(c, runbookPath(error.details.workflowId as string), 'the deployment');
        return refusal(c, error);
      }
    })
    .post('/ui/nodes/clusters/:name/nodes/:node/remove', access('operator'), async (c) => {
      try {
        const started = await service.startRemoval(c.req.param('name'), c.req.param('node'), { timings: deps.deployTimings });
        return goTo(c, runbookPath(started.workflowId), 'the removal');
      } catch (error) {
        if (error instanceof ServiceError && error.code === 'already_running') return goTo(c, runbookPath(error.details.workflowId as string), 'the removal');
        return refusal(c, error);
      }
    })
    .post('/ui/nodes/clusters/:name/nodes/:node/cleanup', access('operator'), async (c) => {
      try {
        const started = await service.startCleanup(c.req.param('name'), c.req.param('node'));
        return c.html(<span role="status">Cleanup of {c.req.param('node')} started (<a href={started.webUiUrl}>{started.workflowId}</a>): its instance is terminated, then the node removed.</span>);
      } catch (error) {
        return refusal(c, error);
      }
    })
    .get('/nodes/runbooks/:workflowId', access('viewer'), (c) =>
      pageOr404(c, async () => {
        const view = await service.runbook(c.req.param('workflowId'));
        return c.html(
          page(
            `${view.kind === 'deploy' ? 'Deployment' : 'Removal'} ${view.node ?? ''}`.trim(),
            <section>
              <RunbookDetails view={view} />
            </section>,
          ),
        );
      }),
    )
    .get('/ui/partials/nodes/runbooks/:workflowId', access('viewer'), (c) => fragmentOrError(c, async () => c.html(<RunbookDetails view={await service.runbook(c.req.param('workflowId'))} />)));
}

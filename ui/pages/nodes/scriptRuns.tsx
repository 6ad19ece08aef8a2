// Script runs: a script run on every active node of a cluster. Started from the cluster's page (its
// form), listed there, and shown per node on /nodes/script-runs/:workflowId, with a re-run of the
// nodes that failed.
import { parseInput } from '../../../services/errors.ts';
import { Hono } from 'hono';
import type { ScriptRunView } from '../../../services/nodes.ts';
import { scriptSchema } from '../../../workflows/nodes.shared.ts';
import type { ExecutionSummary } from '../../../services/executions.ts';
import { failedOutcomes, failurePolicies, MAX_SCRIPT_PARALLELISM, type Cluster, type NodeScriptResult } from '../../../workflows/nodes.shared.ts';
import { ExecutionsTable, executionColumns, type ExecutionColumn } from '../../components/executionsTable.tsx';
import { Duration, Percent, StatusBadge, Time } from '../../components/format.tsx';
import { ProgressBar } from '../../components/progressBar.tsx';
import { TemporalHistoryFact } from '../../components/temporalHistory.tsx';
import { clusterPath, goTo, number, pollWhile, refusal, scriptRunPath, text, type Form, type NodesFrame, type NodesPagesDependencies } from './shared.tsx';
import { access } from '../../../server/access.ts';
import { readForm } from '../../forms.ts';

const policyHelp: Record<(typeof failurePolicies)[number], string> = {
  'fail-fast': 'fail-fast: start no more nodes after the first failure',
  continue: 'continue: run every node, then fail if any failed',
  tolerate: 'tolerate: succeed while at most a fraction failed',
};

function formToScript(form: Form) {
  const failurePolicy = text(form, 'failurePolicy') || undefined;
  return parseInput(scriptSchema, {
    script: text(form, 'script'),
    parallelism: number(form, 'parallelism'),
    failurePolicy,
    // The fraction only means something under "tolerate"; the field stays in the form otherwise.
    toleratedFailureFraction: failurePolicy === 'tolerate' ? number(form, 'toleratedFailureFraction') : undefined,
  });
}

export function ScriptForm({ cluster }: { cluster: Cluster }) {
  return (
    <form id="script-form" class="stacked wide" hx-post={`/ui/nodes/clusters/${encodeURIComponent(cluster.name)}/scripts`} hx-target="#script-result" hx-swap="innerHTML">
      <label for="script">Script</label>
      <textarea id="script" name="script" rows={5} spellcheck={false} required placeholder={'uptime\ndf -h /'}></textarea>
      <label for="parallelism">Nodes in parallel</label>
      <input id="parallelism" name="parallelism" type="number" min="1" max={String(MAX_SCRIPT_PARALLELISM)} value="10" />
      <label for="failurePolicy">When a node fails</label>
      <select id="failurePolicy" name="failurePolicy">
        {failurePolicies.map((policy) => (
          <option value={policy} selected={policy === 'continue'}>
            {policyHelp[policy]}
          </option>
        ))}
      </select>
      <label for="toleratedFailureFraction">Tolerated failures (0–1, with tolerate)</label>
      <input id="toleratedFailureFraction" name="toleratedFailureFraction" type="number" min="0" max="1" step="0.05" placeholder="0.25" />
      <div class="actions">
        <button class="primary" type="submit">
          Run script
        </button>
        <p id="script-result" class="notice" aria-live="polite"></p>
      </div>
    </form>
  );
}

const runColumn: ExecutionColumn = {
  header: 'Run',
  cell: (e) => (
    <a href={scriptRunPath(e.workflowId)}>
      <code>{e.workflowId.split(':')[2]?.slice(0, 8)}</code>
    </a>
  ),
};

export function ScriptRunsTable({ runs }: { runs: ExecutionSummary[] }) {
  const { state, started, ended, temporal } = executionColumns;
  return <ExecutionsTable name="script-runs" executions={runs} columns={[runColumn, state, started, ended, temporal]} empty="No script run yet." />;
}

const outcomeFailed = (n: NodeScriptResult) => failedOutcomes.includes(n.outcome) || n.outcome === 'skipped';

/** A stream's label with what the node printed in full (the page shows the first MAX_OUTPUT_BYTES, stored in MySQL). */
const streamTitle = (stream: string, bytes: number | undefined) => (bytes === undefined ? stream : `${stream}: ${bytes} bytes printed`);

function NodeOutput({ result }: { result: NodeScriptResult }) {
  if (!result.stdout && !result.stderr && !result.error) return <span class="muted">{result.outcome === 'pending' || result.outcome === 'running' ? '…' : 'no output'}</span>;
  return (
    <>
      {result.error ? <div class="error-text">{result.error}</div> : null}
      {result.stdout ? (
        <pre class="output stdout" title={streamTitle('stdout', result.stdoutBytes)}>
          {result.stdout}
        </pre>
      ) : null}
      {result.stderr ? (
        <pre class="output stderr" title={streamTitle('stderr', result.stderrBytes)}>
          {result.stderr}
        </pre>
      ) : null}
      {result.truncated ? <StatusBadge status="truncated" /> : null}
    </>
  );
}

function NodeResults({ results }: { results: NodeScriptResult[] }) {
  return (
    <table class="node-results">
      <thead>
        <tr>
          <th>Node</th>
          <th>Outcome</th>
          <th>Exit code</th>
          <th>Duration</th>
          <th>Output</th>
        </tr>
      </thead>
      <tbody>
        {results.map((result) => (
          <tr data-node={result.node} data-outcome={result.outcome}>
            <td>{result.node}</td>
            <td>
              <StatusBadge status={result.outcome} />
            </td>
            <td data-exit-code={result.exitCode ?? ''}>{result.exitCode ?? <span class="muted">–</span>}</td>
            <td>
              <Duration ms={result.durationMs} />
            </td>
            <td class="output-cell">
              <NodeOutput result={result} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ScriptRunDetails({ view }: { view: ScriptRunView }) {
  const live = view.execution === 'RUNNING';
  const total = view.nodes.length;
  const ended = view.nodes.filter((n) => n.outcome !== 'pending' && n.outcome !== 'running');
  const failed = ended.filter(outcomeFailed).length;
  const succeeded = ended.length - failed;
  return (
    <div id="script-run" data-state={view.state} data-execution={view.execution} {...pollWhile(live, `/ui/partials/nodes/script-runs/${encodeURIComponent(view.workflowId)}`)}>
      <div class="section-head">
        <h1>
          Script run <code>{view.runId.slice(0, 8)}</code> on {view.cluster} <StatusBadge status={view.state} />
        </h1>
        <div class="actions-row">
          {!live && failed > 0 ? (
            <button class="primary" hx-post={`/ui/nodes/script-runs/${encodeURIComponent(view.workflowId)}/rerun-failed`} hx-target="#rerun-result" hx-swap="innerHTML" hx-disabled-elt="this">
              Re-run on failed nodes
            </button>
          ) : null}
          <a href={clusterPath(view.cluster)}>Cluster {view.cluster} →</a>
        </div>
      </div>
      <p id="rerun-result" class="notice" aria-live="polite"></p>
      <ProgressBar name="nodes" title="nodes finished (failed in red)" tone="counted" total={total} done={succeeded} failed={failed}>
        {ended.length} / {total} nodes{failed > 0 ? ` (${failed} failed)` : ''}
      </ProgressBar>
      <dl class="facts">
        <dt>Policy</dt>
        <dd>
          {policyHelp[view.failurePolicy]}
          {view.failurePolicy === 'tolerate' ? (
            <>
              {' '}
              (<Percent fraction={view.toleratedFailureFraction} />)
            </>
          ) : null}
        </dd>
        <dt>Parallelism</dt>
        <dd>{view.parallelism}</dd>
        <dt>Started</dt>
        <dd>
          <Time iso={view.startedAt} />
        </dd>
        <dt>Ended</dt>
        <dd>
          <Time iso={view.endedAt} missing={live ? 'running' : view.execution.toLowerCase()} />
        </dd>
        <TemporalHistoryFact url={view.webUiUrl} />
      </dl>
      {total === 0 ? <p class="muted">{live ? 'Finding the cluster’s active nodes…' : 'No node ran.'}</p> : <NodeResults results={view.nodes} />}
    </div>
  );
}

export function scriptRunsRoutes(deps: NodesPagesDependencies, frame: NodesFrame) {
  const { service } = deps;
  const { page, pageOr404, fragmentOrError } = frame;
  return new Hono()
    .post('/ui/nodes/clusters/:name/scripts', access('operator'), async (c) => {
      try {
        const started = await service.startScript(c.req.param('name'), formToScript(await readForm(c)));
        return goTo(c, scriptRunPath(started.workflowId), 'the script run');
      } catch (error) {
        return refusal(c, error);
      }
    })
    .get('/nodes/script-runs/:workflowId', access('viewer'), (c) =>
      pageOr404(c, async () => {
        const view = await service.scriptRun(c.req.param('workflowId'));
        return c.html(
          page(
            `Script run ${view.runId.slice(0, 8)}`,
            <section>
              <ScriptRunDetails view={view} />
            </section>,
          ),
        );
      }),
    )
    .get('/ui/partials/nodes/script-runs/:workflowId', access('viewer'), (c) => fragmentOrError(c, async () => c.html(<ScriptRunDetails view={await service.scriptRun(c.req.param('workflowId'))} />)))
    .post('/ui/nodes/script-runs/:workflowId/rerun-failed', access('operator'), async (c) => {
      try {
        const started = await service.rerunFailed(c.req.param('workflowId'));
        return goTo(c, scriptRunPath(started.workflowId), 'the re-run');
      } catch (error) {
        return refusal(c, error);
      }
    });
}

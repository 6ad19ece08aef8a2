// Clusters: /nodes lists them (with the form to create one, recent runbooks and the profiles), and
// /nodes/clusters/:name shows one: its nodes with Deploy and Remove, its script runner, its recent
// runs, and its settings to edit or delete it.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { parseInput, ServiceError } from '../../../services/errors.ts';
import { clusterSchema } from '../../../workflows/nodes.shared.ts';
import type { ClusterSummary } from '../../../db/nodes.ts';
import { deployNodeWorkflowId, removeNodeWorkflowId, type Cluster, type NodeRecord, type ProfileView } from '../../../workflows/nodes.shared.ts';
import { StatusBadge, Time } from '../../components/format.tsx';
import { ProfileOptions, profileKinds, ProfilesSection, profileOptionsReload } from './profiles.tsx';
import { RunbooksTable } from './runbooks.tsx';
import { ScriptForm, ScriptRunsTable } from './scriptRuns.tsx';
import {
  asFormValues,
  clusterPath,
  FormActions,
  number,
  optionalText,
  outOfBand,
  pollWhile,
  redirect,
  refusal,
  runbookPath,
  text,
  type Form,
  type NodesFrame,
  type NodesPagesDependencies,
} from './shared.tsx';
import { access } from '../../../server/access.ts';
import { readForm } from '../../forms.ts';

const clusterTextFields = ['puppetManifest', 'tomcatScript', 'deployScript', 'clusterUpdateScript'] as const;

const scriptPlaceholders: Record<(typeof clusterTextFields)[number], { label: string; placeholder: string }> = {
  puppetManifest: { label: 'Puppet manifest (OS configuration)', placeholder: `file { "/etc/motd": content => "\${facts['fleet_node']} of \${facts['fleet_cluster']}\\n" }` },
  tomcatScript: { label: 'Tomcat configuration script', placeholder: 'mkdir -p /opt/tomcat/conf && echo "configured $FLEET_NODE"' },
  deployScript: { label: 'Application deployment script', placeholder: 'cp /srv/releases/app.war /opt/tomcat/webapps/ROOT.war' },
  clusterUpdateScript: { label: 'Cluster update script (every active node)', placeholder: 'echo "$FLEET_NODE joined or left $FLEET_CLUSTER"' },
};

function formToCluster(form: Form) {
  return parseInput(clusterSchema, {
    name: text(form, 'name').trim(),
    minNodes: number(form, 'minNodes'),
    maxNodes: number(form, 'maxNodes'),
    ec2Profile: text(form, 'ec2Profile'),
    sshProfile: text(form, 'sshProfile'),
    notifyEmail: text(form, 'notifyEmail').trim() || null,
    ...Object.fromEntries(clusterTextFields.map((field) => [field, optionalText(form, field)])),
  });
}

const dash = <span class="muted">–</span>;

function ClustersTable({ clusters, oob }: { clusters: ClusterSummary[]; oob?: boolean }) {
  return (
    <div id="clusters" {...outOfBand(oob)}>
      {clusters.length === 0 ? (
        <p class="muted">No cluster yet: create one below.</p>
      ) : (
        <table class="clusters">
          <thead>
            <tr>
              <th>Cluster</th>
              <th>Min / max</th>
              <th>Active / total nodes</th>
              <th>EC2 profile</th>
              <th>SSH profile</th>
              <th>Notify</th>
            </tr>
          </thead>
          <tbody>
            {clusters.map((cluster) => (
              <tr data-cluster={cluster.name}>
                <td>
                  <a href={clusterPath(cluster.name)}>{cluster.name}</a>
                </td>
                <td>
                  {cluster.minNodes} / {cluster.maxNodes}
                </td>
                <td data-nodes={`${cluster.activeCount}/${cluster.nodeCount}`}>
                  {cluster.activeCount} / {cluster.nodeCount}
                </td>
                <td>{cluster.ec2Profile}</td>
                <td>{cluster.sshProfile}</td>
                <td>{cluster.notifyEmail ?? dash}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

interface ClusterFormProps {
  ec2Profiles: ProfileView<'ec2'>[];
  sshProfiles: ProfileView<'ssh'>[];
  /** The cluster this form edits (its settings, fully replaced); without it the form creates one. */
  editing?: string;
  values?: Form;
  error?: string;
  notice?: Child;
}

function ClusterForm({ ec2Profiles, sshProfiles, editing, values = { minNodes: '0', maxNodes: '3' }, error, notice }: ClusterFormProps) {
  const value = (name: string) => text(values, name);
  const action = editing ? `/ui/nodes/clusters/${encodeURIComponent(editing)}` : '/ui/nodes/clusters';
  return (
    <form id={editing ? 'cluster-edit-form' : 'cluster-form'} class="stacked wide" hx-post={action} hx-target="this" hx-swap="outerHTML">
      {editing ? null : (
        <>
          <label for="cluster-name">Name</label>
          <input id="cluster-name" name="name" value={value('name')} placeholder="web" required autocomplete="off" />
        </>
      )}
      <label for="minNodes">Nodes (min – max)</label>
      <span>
        <input id="minNodes" name="minNodes" type="number" min="0" max="99" value={value('minNodes')} aria-label="Minimum nodes" /> –{' '}
        <input id="maxNodes" name="maxNodes" type="number" min="1" max="99" value={value('maxNodes')} aria-label="Maximum nodes" />
      </span>
      <label for="ec2Profile">EC2 profile</label>
      <select id="ec2Profile" name="ec2Profile" {...profileOptionsReload('ec2')}>
        <ProfileOptions names={ec2Profiles.map((p) => p.name)} selected={value('ec2Profile')} />
      </select>
      <label for="sshProfile">SSH profile</label>
      <select id="sshProfile" name="sshProfile" {...profileOptionsReload('ssh')}>
        <ProfileOptions names={sshProfiles.map((p) => p.name)} selected={value('sshProfile')} />
      </select>
      <label for="notifyEmail">Notify email</label>
      <input id="notifyEmail" name="notifyEmail" type="email" value={value('notifyEmail')} placeholder="ops@example.com (optional)" />
      {clusterTextFields.map((field) => (
        <>
          <label for={field}>{scriptPlaceholders[field].label}</label>
          <textarea id={field} name={field} rows={3} spellcheck={false} placeholder={scriptPlaceholders[field].placeholder}>
            {value(field)}
          </textarea>
        </>
      ))}
      <FormActions submit={editing ? 'Save cluster' : 'Create cluster'} error={error} notice={notice} />
    </form>
  );
}

function ClusterFacts({ cluster, nodes, oob }: { cluster: Cluster; nodes: NodeRecord[]; oob?: boolean }) {
  const active = nodes.filter((n) => n.state === 'active').length;
  const step = (script: string | null) => (script ? <span>yes</span> : <span class="muted">none (skipped)</span>);
  return (
    <dl id="cluster-facts" class="facts" {...outOfBand(oob)}>
      <dt>Nodes</dt>
      <dd>
        {active} active of {nodes.length} (min {cluster.minNodes}, max {cluster.maxNodes})
      </dd>
      <dt>Profiles</dt>
      <dd>
        EC2 {cluster.ec2Profile} · SSH {cluster.sshProfile}
      </dd>
      <dt>Notify</dt>
      <dd>{cluster.notifyEmail ?? <span class="muted">nobody</span>}</dd>
      <dt>Runbook</dt>
      <dd>
        Puppet manifest {step(cluster.puppetManifest)} · Tomcat script {step(cluster.tomcatScript)} · deploy script {step(cluster.deployScript)} · cluster update{' '}
        {step(cluster.clusterUpdateScript)}
      </dd>
    </dl>
  );
}

/** The runbook a node is in the middle of, if any. */
function runbookOf(node: NodeRecord): string | null {
  if (node.state === 'removing') return removeNodeWorkflowId(node.cluster, node.name);
  if (node.state === 'launching' || node.state === 'configuring') return deployNodeWorkflowId(node.cluster, node.deploymentId);
  return null;
}

function NodeAction({ cluster, node, active }: { cluster: Cluster; node: NodeRecord; active: number }) {
  if (node.state !== 'active') {
    const runbook = runbookOf(node);
    const link = runbook ? <a href={runbookPath(runbook)}>{node.state === 'removing' ? 'removal' : 'deployment'} in progress →</a> : null;
    if (node.state === 'removing') return link;
    // A deployment that died (or an outage older sagas gave up on) leaves the node here: it can be cleaned up.
    const cleanup = `/ui/nodes/clusters/${encodeURIComponent(cluster.name)}/nodes/${encodeURIComponent(node.name)}/cleanup`;
    const confirm = `Clean up ${node.name}? Its instance is terminated and the node removed (refused while its deployment runs).`;
    return (
      <>
        {link}{' '}
        <button type="button" class="danger" hx-post={cleanup} hx-confirm={confirm} hx-target="#cluster-result" hx-swap="innerHTML" hx-disabled-elt="this">
          Clean up
        </button>
      </>
    );
  }
  const atMinimum = active <= cluster.minNodes;
  return (
    <button
      type="button"
      class="danger"
      hx-post={`/ui/nodes/clusters/${encodeURIComponent(cluster.name)}/nodes/${encodeURIComponent(node.name)}/remove`}
      hx-confirm={`Remove ${node.name}? Its instance is deregistered and terminated.`}
      hx-target="#cluster-result"
      hx-swap="innerHTML"
      hx-disabled-elt="this"
      disabled={atMinimum}
      title={atMinimum ? `The cluster is at its minimum of ${cluster.minNodes} active node(s).` : undefined}
    >
      Remove
    </button>
  );
}

function NodesTable({ cluster, nodes, oob }: { cluster: Cluster; nodes: NodeRecord[]; oob?: boolean }) {
  const active = nodes.filter((n) => n.state === 'active').length;
  // While a node is on its way in or out, the table follows it.
  const changing = nodes.some((n) => n.state !== 'active');
  return (
    <div id="nodes" {...pollWhile(changing, `/ui/partials/nodes/clusters/${encodeURIComponent(cluster.name)}/nodes`, '2s')} {...outOfBand(oob)}>
      {nodes.length === 0 ? (
        <p class="muted">No node yet: deploy one.</p>
      ) : (
        <table class="nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>State</th>
              <th>Instance</th>
              <th>SSH address</th>
              <th>Created</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr data-node={node.name} data-state={node.state}>
                <td>{node.name}</td>
                <td>
                  <StatusBadge status={node.state} />
                </td>
                <td>{node.instanceId ? <code>{node.instanceId}</code> : dash}</td>
                <td>{node.sshHost ? <code>{`${node.sshHost}:${node.sshPort ?? 22}`}</code> : dash}</td>
                <td>
                  <Time iso={node.createdAt} />
                </td>
                <td class="row-actions">
                  <NodeAction cluster={cluster} node={node} active={active} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function clustersRoutes(deps: NodesPagesDependencies, { page, pageOr404, fragmentOrError }: NodesFrame) {
  const { service } = deps;
  const { model } = service;

  const clusterForm = async (props: Omit<ClusterFormProps, 'ec2Profiles' | 'sshProfiles'> = {}) => (
    <ClusterForm ec2Profiles={await model.listProfiles('ec2')} sshProfiles={await model.listProfiles('ssh')} {...props} />
  );

  return new Hono()
    .get('/nodes', access('viewer'), async (c) => {
      const [clusters, ec2Profiles, sshProfiles, runbooks] = await Promise.all([model.listClusters(), model.listProfiles('ec2'), model.listProfiles('ssh'), service.recentRunbooks(15)]);
      // Where a deleted cluster's page sends the browser.
      const deleted = c.req.query('deleted');
      return c.html(
        page(
          'Nodes',
          <>
            <section>
              <div class="section-head">
                <h1>Clusters</h1>
                <a href="/nodes/mailbox">Mailbox</a>
              </div>
              <p class="muted">
                Each cluster deploys EC2 nodes from its profiles, configures them over SSH (Puppet, then its scripts), registers them with its load balancer and mails
                how it went. Open a cluster to deploy or remove nodes and run scripts on them.
              </p>
              {deleted && !clusters.some((cluster) => cluster.name === deleted) ? (
                <p class="notice" role="status">
                  Deleted cluster {deleted}.
                </p>
              ) : null}
              <ClustersTable clusters={clusters} />
            </section>
            <section>
              <h2>Create a cluster</h2>
              <p class="muted">
                Scripts run over SSH as the profile’s user, with <code>FLEET_CLUSTER</code>, <code>FLEET_NODE</code> and <code>FLEET_INSTANCE_ID</code> set; the manifest
                sees the facts <code>fleet_cluster</code> and <code>fleet_node</code>. Empty steps are skipped.
              </p>
              <ClusterForm ec2Profiles={ec2Profiles} sshProfiles={sshProfiles} />
            </section>
            <section>
              <h2>Recent deployments and removals</h2>
              <RunbooksTable runbooks={runbooks} />
            </section>
            <ProfilesSection kind={profileKinds.ec2} profiles={ec2Profiles} />
            <ProfilesSection kind={profileKinds.ssh} profiles={sshProfiles} />
          </>,
        ),
      );
    })
    .post('/ui/nodes/clusters', access('admin'), async (c) => {
      const form = await readForm(c);
      try {
        const cluster = await service.putCluster(formToCluster(form), false);
        const created = (
          <>
            Created cluster <a href={clusterPath(cluster.name)}>{cluster.name}</a>.
          </>
        );
        return c.html(
          <>
            {await clusterForm({ notice: created })}
            <ClustersTable clusters={await model.listClusters()} oob />
          </>,
        );
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return c.html(await clusterForm({ values: form, error: error.message }));
      }
    })
    .get('/nodes/clusters/:name', access('viewer'), (c) =>
      pageOr404(c, async () => {
        const { cluster, nodes } = await service.clusterDetail(c.req.param('name'));
        const [scriptRuns, runbooks, editForm] = await Promise.all([
          service.recentScriptRuns(10, cluster.name),
          service.recentRunbooks(50, cluster.name).then((list) => list.slice(0, 10)),
          clusterForm({ editing: cluster.name, values: asFormValues(cluster) }),
        ]);
        const actions = `/ui/nodes/clusters/${encodeURIComponent(cluster.name)}`;
        return c.html(
          page(
            `Cluster ${cluster.name}`,
            <>
              <section>
                <div class="section-head">
                  <h1>Cluster {cluster.name}</h1>
                  <div class="actions-row">
                    <button
                      class="primary"
                      hx-post={`${actions}/deployments`}
                      hx-vals={JSON.stringify({ deploymentId: randomUUID() })}
                      hx-target="#cluster-result"
                      hx-swap="innerHTML"
                      hx-disabled-elt="this"
                    >
                      Deploy a node
                    </button>
                  </div>
                </div>
                <p id="cluster-result" class="notice" aria-live="polite"></p>
                <ClusterFacts cluster={cluster} nodes={nodes} />
                <NodesTable cluster={cluster} nodes={nodes} />
              </section>
              <section>
                <h2>Run a script on the active nodes</h2>
                <ScriptForm cluster={cluster} />
              </section>
              <section>
                <h2>Recent script runs</h2>
                <ScriptRunsTable runs={scriptRuns} />
              </section>
              <section>
                <h2>Recent deployments and removals</h2>
                <RunbooksTable runbooks={runbooks} showCluster={false} />
              </section>
              <section>
                <div class="section-head">
                  <h2>Edit cluster</h2>
                  <button
                    type="button"
                    class="danger"
                    hx-post={`${actions}/delete`}
                    hx-confirm={`Delete cluster ${cluster.name}? Its settings and scripts are deleted; a cluster that still has nodes is kept.`}
                    hx-target="#cluster-delete-result"
                    hx-swap="innerHTML"
                    hx-disabled-elt="this"
                  >
                    Delete cluster
                  </button>
                </div>
                <p id="cluster-delete-result" class="notice" aria-live="polite"></p>
                <p class="muted">
                  Saving replaces every setting: an emptied script is skipped from then on. New bounds apply to the next deployment or removal; nodes keep the
                  profiles they were deployed with.
                </p>
                {editForm}
              </section>
            </>,
          ),
        );
      }),
    )
    .post('/ui/nodes/clusters/:name', access('admin'), async (c) => {
      const name = c.req.param('name');
      const form = await readForm(c);
      try {
        const cluster = await service.putCluster(formToCluster({ ...form, name }), true);
        const nodes = await model.listNodes(name);
        return c.html(
          <>
            {await clusterForm({ editing: name, values: asFormValues(cluster), notice: `Saved cluster ${name}.` })}
            <ClusterFacts cluster={cluster} nodes={nodes} oob />
            <NodesTable cluster={cluster} nodes={nodes} oob />
          </>,
        );
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return c.html(await clusterForm({ editing: name, values: form, error: error.message }));
      }
    })
    .post('/ui/nodes/clusters/:name/delete', access('admin'), async (c) => {
      const name = c.req.param('name');
      try {
        await model.deleteCluster(name);
      } catch (error) {
        return refusal(c, error);
      }
      return redirect(c, `/nodes?deleted=${encodeURIComponent(name)}`, `Deleted cluster ${name}.`);
    })
    .get('/ui/partials/nodes/clusters/:name/nodes', access('viewer'), (c) =>
      fragmentOrError(c, async () => {
        const { cluster, nodes } = await service.clusterDetail(c.req.param('name'));
        return c.html(<NodesTable cluster={cluster} nodes={nodes} />);
      }),
    );
}

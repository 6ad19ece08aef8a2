// Clusters and nodes in the UI: the clusters and their EC2 and SSH profiles (create, update), a
// cluster's nodes with Deploy and Remove buttons, its script runner, its settings (edit, delete), a
// deployment's or removal's steps live, a script run's output per node, and the SMTP sink's mailbox.
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { z } from 'zod';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ServiceError, validationError } from '../../services/errors.ts';
import { clusterSchema, deploySchema, ec2ProfileSchema, scriptSchema, sshProfileSchema, type NodesService, type RunbookView, type ScriptRunView } from '../../services/nodes.ts';
import type { ExecutionSummary } from '../../services/executions.ts';
import { FleetModelError, type ClusterSummary } from '../../db/nodes.ts';
import {
  deployNodeWorkflowId,
  failedOutcomes,
  failurePolicies,
  MAX_SCRIPT_PARALLELISM,
  PROFILE_NAME_PATTERN,
  removeNodeWorkflowId,
  type Cluster,
  type Ec2Profile,
  type NodeRecord,
  type NodeScriptResult,
  type NodeTimings,
  type SshProfile,
  type StepProgress,
} from '../../workflows/nodes.shared.ts';
import { Layout } from '../layout.tsx';
import { TemporalHistoryFact } from '../components/temporalHistory.tsx';

export interface NodesPagesDependencies {
  service: NodesService;
  temporalWebUiUrl: string;
  /** Waits of deployments and removals started here (default: the production timings; tests pass milliseconds). */
  deployTimings?: Partial<NodeTimings>;
}

const runbookPath = (workflowId: string) => `/nodes/runbooks/${encodeURIComponent(workflowId)}`;
const scriptRunPath = (workflowId: string) => `/nodes/script-runs/${encodeURIComponent(workflowId)}`;
const clusterPath = (name: string) => `/nodes/clusters/${encodeURIComponent(name)}`;

const shortTime = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) : '–');

function Time({ iso }: { iso: string | null | undefined }) {
  return iso ? <time datetime={iso}>{shortTime(iso)}</time> : <span class="muted">–</span>;
}

function percent(part: number, whole: number): number {
  return whole > 0 ? Math.min(100, Math.round((part / whole) * 1000) / 10) : 0;
}

function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function stepDuration(step: StepProgress): string {
  if (!step.startedAt) return '';
  const end = step.endedAt ? Date.parse(step.endedAt) : Date.now();
  return duration(end - Date.parse(step.startedAt));
}

function Badge({ status, label }: { status: string; label?: string }) {
  return <span class={`badge ${status.toLowerCase()}`}>{label ?? status.toLowerCase()}</span>;
}

function WebUiLink({ url }: { url: string }) {
  return (
    <a href={url} target="_blank" rel="noopener">
      Temporal ↗
    </a>
  );
}

// ---------------------------------------------------------------------------------------------
// Form fields arrive as strings: numbers that are not numbers stay strings so the schema names them,
// and browsers send textarea line breaks as CRLF, which a shell script must not see.

type Form = Record<string, unknown>;

const text = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string).replace(/\r\n?/g, '\n') : '');

/** A one-line field, trimmed; empty optional ones are null, as the JSON API stores them. */
const line = (form: Form, name: string) => text(form, name).trim();
const optionalLine = (form: Form, name: string) => line(form, name) || null;
const optionalText = (form: Form, name: string) => (line(form, name) === '' ? null : text(form, name));

function number(form: Form, name: string): unknown {
  const value = text(form, name).trim();
  if (value === '') return undefined;
  return Number.isNaN(Number(value)) ? value : Number(value);
}

/** The schema's first complaint as an ServiceError, worded like the JSON API's. */
function parseWith<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw validationError(issue.path.map(String).join('.'), issue.message);
  }
  return parsed.data;
}

const clusterTextFields = ['puppetManifest', 'tomcatScript', 'deployScript', 'clusterUpdateScript'] as const;

function formToCluster(form: Form) {
  return parseWith(clusterSchema, {
    name: text(form, 'name').trim(),
    minNodes: number(form, 'minNodes'),
    maxNodes: number(form, 'maxNodes'),
    ec2Profile: text(form, 'ec2Profile'),
    sshProfile: text(form, 'sshProfile'),
    notifyEmail: text(form, 'notifyEmail').trim() || null,
    ...Object.fromEntries(clusterTextFields.map((field) => [field, optionalText(form, field)])),
  });
}

/** Profile names travel in the API's path, so they are checked (and refused) as it does. */
function profileName(form: Form): string {
  const name = line(form, 'name');
  if (!PROFILE_NAME_PATTERN.test(name)) throw new ServiceError(400, 'validation_failed', `${JSON.stringify(name)} is not a valid profile name.`, { field: 'name' });
  return name;
}

function formToEc2Profile(form: Form): Ec2Profile {
  const name = profileName(form);
  const profile = parseWith(ec2ProfileSchema, {
    region: line(form, 'region'),
    imageId: line(form, 'imageId'),
    instanceType: line(form, 'instanceType'),
    keyName: optionalLine(form, 'keyName'),
    securityGroups: line(form, 'securityGroups')
      .split(',')
      .map((group) => group.trim())
      .filter(Boolean),
    subnetId: optionalLine(form, 'subnetId'),
    targetGroup: line(form, 'targetGroup'),
    targetPort: number(form, 'targetPort'),
    userData: optionalText(form, 'userData'),
  });
  return { name, ...profile };
}

function formToSshProfile(form: Form): SshProfile {
  const name = profileName(form);
  return { name, ...parseWith(sshProfileSchema, { user: line(form, 'user'), keyRef: line(form, 'keyRef'), port: number(form, 'port') }) };
}

/** A stored record as its form shows it: numbers as text, lists comma-separated, nulls empty. */
function asFormValues(record: object): Form {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, Array.isArray(value) ? value.join(', ') : String(value ?? '')]));
}

function formToScript(form: Form) {
  const failurePolicy = text(form, 'failurePolicy') || undefined;
  return parseWith(scriptSchema, {
    script: text(form, 'script'),
    parallelism: number(form, 'parallelism'),
    failurePolicy,
    // The fraction only means something under "tolerate"; the field stays in the form otherwise.
    toleratedFailureFraction: failurePolicy === 'tolerate' ? number(form, 'toleratedFailureFraction') : undefined,
  });
}

/** htmx follows HX-Redirect, a plain form post a 303; the note shows until the browser has left. */
function redirect(c: Context, url: string, note: Child) {
  if (!c.req.header('HX-Request')) return c.redirect(url, 303);
  c.header('HX-Redirect', url);
  return c.html(<span>{note}</span>);
}

/** After a start: on to what was started. */
function goTo(c: Context, url: string, what: string) {
  return redirect(
    c,
    url,
    <>
      Started <a href={url}>{what}</a>…
    </>,
  );
}

/** htmx swaps only 2xx answers, so refusals (the API's or the model's) are reported in 200 fragments. */
function refusal(c: Context, error: unknown) {
  if (error instanceof ServiceError || error instanceof FleetModelError) return c.html(<span class="error-text" role="alert">{error.message}</span>);
  throw error;
}

// ---------------------------------------------------------------------------------------------
// /nodes: clusters, the create form, profiles, recent runbooks.

function ClustersTable({ clusters }: { clusters: ClusterSummary[] }) {
  if (clusters.length === 0) return <p class="muted">No cluster yet: create one below.</p>;
  return (
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
            <td>{cluster.notifyEmail ?? <span class="muted">–</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface ClusterFormProps {
  ec2Profiles: Ec2Profile[];
  sshProfiles: SshProfile[];
  /** The cluster this form edits (its settings, fully replaced); without it the form creates one. */
  editing?: string;
  values?: Form;
  error?: string;
  notice?: Child;
}

const scriptPlaceholders: Record<(typeof clusterTextFields)[number], { label: string; placeholder: string }> = {
  puppetManifest: { label: 'Puppet manifest (OS configuration)', placeholder: `file { "/etc/motd": content => "\${facts['fleet_node']} of \${facts['fleet_cluster']}\\n" }` },
  tomcatScript: { label: 'Tomcat configuration script', placeholder: 'mkdir -p /opt/tomcat/conf && echo "configured $FLEET_NODE"' },
  deployScript: { label: 'Application deployment script', placeholder: 'cp /srv/releases/app.war /opt/tomcat/webapps/ROOT.war' },
  clusterUpdateScript: { label: 'Cluster update script (every active node)', placeholder: 'echo "$FLEET_NODE joined or left $FLEET_CLUSTER"' },
};

function ProfileOptions({ names, selected }: { names: string[]; selected: string }) {
  return (
    <>
      {names.map((name) => (
        <option value={name} selected={name === selected}>
          {name}
        </option>
      ))}
    </>
  );
}

/** The event a saved profile sends (HX-Trigger): the cluster form's selects reload their options, keeping their choice. */
const PROFILES_CHANGED = 'fleet-profiles-changed';
const profileOptionsReload = (kind: 'ec2' | 'ssh') => ({
  'hx-get': `/ui/partials/nodes/profile-options/${kind}`,
  'hx-trigger': `${PROFILES_CHANGED} from:body`,
  // Its own options, not the form's target it would inherit.
  'hx-target': 'this',
  'hx-swap': 'innerHTML',
});

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

/** The submit button, then the refusal or the confirmation of the last save. */
function FormActions({ submit, error, notice, children }: { submit: string; error?: string; notice?: Child; children?: Child }) {
  return (
    <div class="actions">
      <button class="primary" type="submit">
        {submit}
      </button>
      {children}
      {error ? (
        <p class="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
    </div>
  );
}

/** A form field's explanation, under the field. */
function Hint({ children }: { children?: Child }) {
  return <small class="hint muted">{children}</small>;
}

interface ProfileFormProps {
  values?: Form;
  error?: string;
  notice?: Child;
}

/** Saved under a new name it is a new profile, under an existing one it replaces that one (PUT). */
function Ec2ProfileForm({ values = {}, error, notice }: ProfileFormProps) {
  const value = (name: string) => text(values, name);
  return (
    <form id="ec2-profile-form" class="stacked wide" hx-post="/ui/nodes/ec2-profiles" hx-target="this" hx-swap="outerHTML">
      <label for="ec2-name">Name</label>
      <input id="ec2-name" name="name" value={value('name')} placeholder="web-us-east" required autocomplete="off" />
      <label for="ec2-region">Region</label>
      <input id="ec2-region" name="region" value={value('region')} placeholder="us-east-1" required />
      <label for="ec2-imageId">Image (AMI)</label>
      <input id="ec2-imageId" name="imageId" value={value('imageId')} placeholder="ami-12c6146b" required />
      <label for="ec2-instanceType">Instance type</label>
      <input id="ec2-instanceType" name="instanceType" value={value('instanceType')} placeholder="t3.micro" required />
      <label for="ec2-keyName">EC2 key pair</label>
      <input id="ec2-keyName" name="keyName" value={value('keyName')} placeholder="optional" />
      <label for="ec2-securityGroups">Security groups</label>
      <input id="ec2-securityGroups" name="securityGroups" value={value('securityGroups')} placeholder="sg-0a1b2c3d, sg-4e5f6a7b" />
      <Hint>Comma-separated, at most 5; none uses the VPC’s default group.</Hint>
      <label for="ec2-subnetId">Subnet</label>
      <input id="ec2-subnetId" name="subnetId" value={value('subnetId')} placeholder="optional" />
      <label for="ec2-targetGroup">Target group</label>
      <input id="ec2-targetGroup" name="targetGroup" value={value('targetGroup')} placeholder="name or ARN" required />
      <label for="ec2-targetPort">Target port</label>
      <span>
        <input id="ec2-targetPort" name="targetPort" type="number" min="1" max="65535" value={value('targetPort')} /> <span class="muted">empty: the target group’s port</span>
      </span>
      <label for="ec2-userData">User data</label>
      <textarea id="ec2-userData" name="userData" rows={3} spellcheck={false} placeholder="#cloud-config (optional)">
        {value('userData')}
      </textarea>
      <FormActions submit="Save EC2 profile" error={error} notice={notice}>
        <ClearButton form="ec2-profile-form" />
      </FormActions>
    </form>
  );
}

function SshProfileForm({ values = {}, error, notice }: ProfileFormProps) {
  const value = (name: string) => text(values, name);
  return (
    <form id="ssh-profile-form" class="stacked wide" hx-post="/ui/nodes/ssh-profiles" hx-target="this" hx-swap="outerHTML">
      <label for="ssh-name">Name</label>
      <input id="ssh-name" name="name" value={value('name')} placeholder="ubuntu-deploy" required autocomplete="off" />
      <label for="ssh-user">User</label>
      <input id="ssh-user" name="user" value={value('user')} placeholder="ubuntu" required autocomplete="off" />
      <label for="ssh-keyRef">Key reference</label>
      <input id="ssh-keyRef" name="keyRef" value={value('keyRef')} placeholder="id_ed25519" required autocomplete="off" spellcheck={false} />
      <Hint>
        The file name of a private key in the worker’s <code>SSH_KEYS_DIR</code>. The key itself is never entered here.
      </Hint>
      <label for="ssh-port">Port</label>
      <input id="ssh-port" name="port" type="number" min="1" max="65535" value={value('port')} placeholder="22" />
      <FormActions submit="Save SSH profile" error={error} notice={notice}>
        <ClearButton form="ssh-profile-form" />
      </FormActions>
    </form>
  );
}

/** Swaps in an empty form, to start a new profile after editing one. */
function ClearButton({ form }: { form: string }) {
  return (
    <button type="button" class="plain" hx-get={`/ui/nodes/${form}`} hx-target={`#${form}`} hx-swap="outerHTML">
      Clear
    </button>
  );
}

/** The Edit button of a profile row: its form, filled in. */
function EditProfileCell({ form, name }: { form: string; name: string }) {
  return (
    <td class="row-actions">
      <button type="button" class="plain" hx-get={`/ui/nodes/${form}?name=${encodeURIComponent(name)}`} hx-target={`#${form}`} hx-swap="outerHTML show:top">
        Edit
      </button>
    </td>
  );
}

function Ec2ProfilesTable({ profiles }: { profiles: Ec2Profile[] }) {
  if (profiles.length === 0) return <p class="muted">None yet: add one below.</p>;
  return (
    <table class="ec2-profiles">
      <thead>
        <tr>
          <th>Name</th>
          <th>Region</th>
          <th>Image</th>
          <th>Type</th>
          <th>Security groups</th>
          <th>Target group</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {profiles.map((p) => (
          <tr data-profile={p.name}>
            <td>{p.name}</td>
            <td>{p.region}</td>
            <td>
              <code>{p.imageId}</code>
            </td>
            <td>{p.instanceType}</td>
            <td>{p.securityGroups.length > 0 ? p.securityGroups.join(', ') : <span class="muted">–</span>}</td>
            <td>
              {p.targetGroup}
              {p.targetPort ? `:${p.targetPort}` : ''}
            </td>
            <EditProfileCell form="ec2-profile-form" name={p.name} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SshProfilesTable({ profiles }: { profiles: SshProfile[] }) {
  if (profiles.length === 0) return <p class="muted">None yet: add one below.</p>;
  return (
    <table class="ssh-profiles">
      <thead>
        <tr>
          <th>Name</th>
          <th>User</th>
          <th>Key reference</th>
          <th>Port</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {profiles.map((p) => (
          <tr data-profile={p.name}>
            <td>{p.name}</td>
            <td>{p.user}</td>
            <td>
              <code>{p.keyRef}</code>
            </td>
            <td>{p.port ?? 22}</td>
            <EditProfileCell form="ssh-profile-form" name={p.name} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** `node-deploy:web:<id>` → deploy on web; `node-remove:web:web01` → remove web01. */
function describeRunbook(workflowId: string) {
  const [prefix, cluster = '', subject = ''] = workflowId.split(':');
  return prefix === 'node-remove' ? { kind: 'Removal', cluster, subject } : { kind: 'Deployment', cluster, subject: subject.slice(0, 8) };
}

function RunbooksTable({ runbooks, showCluster = true }: { runbooks: ExecutionSummary[]; showCluster?: boolean }) {
  if (runbooks.length === 0) return <p class="muted">None yet.</p>;
  return (
    <table class="runbooks">
      <thead>
        <tr>
          <th>Runbook</th>
          {showCluster ? <th>Cluster</th> : null}
          <th>State</th>
          <th>Started</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {runbooks.map((e) => {
          const { kind, cluster, subject } = describeRunbook(e.workflowId);
          return (
            <tr data-workflow-id={e.workflowId}>
              <td>
                <a href={runbookPath(e.workflowId)}>
                  {kind} <code>{subject}</code>
                </a>
              </td>
              {showCluster ? (
                <td>
                  <a href={clusterPath(cluster)}>{cluster}</a>
                </td>
              ) : null}
              <td>
                <Badge status={e.fleetStatus ?? e.status} />
              </td>
              <td>
                <Time iso={e.startTime} />
              </td>
              <td>
                <WebUiLink url={e.webUiUrl} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

// ---------------------------------------------------------------------------------------------
// /nodes/clusters/:name: nodes, Deploy and Remove, the script runner, recent script runs.

function runbookOf(node: NodeRecord): string | null {
  if (node.state === 'removing') return removeNodeWorkflowId(node.cluster, node.name);
  if (node.state === 'launching' || node.state === 'configuring') return deployNodeWorkflowId(node.cluster, node.deploymentId);
  return null;
}

/** `oob`: sent beside another answer (a saved edit), in place of the one on the page. */
const outOfBand = (oob: boolean | undefined) => (oob ? { 'hx-swap-oob': 'true' } : {});

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

export function NodesTable({ cluster, nodes, oob }: { cluster: Cluster; nodes: NodeRecord[]; oob?: boolean }) {
  const changing = nodes.some((n) => n.state !== 'active');
  const active = nodes.filter((n) => n.state === 'active').length;
  // While a node is on its way in or out, the table follows it.
  const poll = changing ? { 'hx-get': `/ui/partials/nodes/clusters/${encodeURIComponent(cluster.name)}/nodes`, 'hx-trigger': 'every 2s', 'hx-swap': 'outerHTML' } : {};
  return (
    <div id="nodes" {...poll} {...outOfBand(oob)}>
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
            {nodes.map((node) => {
              const runbook = runbookOf(node);
              return (
                <tr data-node={node.name} data-state={node.state}>
                  <td>{node.name}</td>
                  <td>
                    <Badge status={node.state} />
                  </td>
                  <td>{node.instanceId ? <code>{node.instanceId}</code> : <span class="muted">–</span>}</td>
                  <td>{node.sshHost ? <code>{`${node.sshHost}:${node.sshPort ?? 22}`}</code> : <span class="muted">–</span>}</td>
                  <td>
                    <Time iso={node.createdAt} />
                  </td>
                  <td class="row-actions">
                    {node.state === 'active' ? (
                      <button
                        type="button"
                        class="danger"
                        hx-post={`/ui/nodes/clusters/${encodeURIComponent(cluster.name)}/nodes/${encodeURIComponent(node.name)}/remove`}
                        hx-confirm={`Remove ${node.name}? Its instance is deregistered and terminated.`}
                        hx-target="#cluster-result"
                        hx-swap="innerHTML"
                        hx-disabled-elt="this"
                        disabled={active <= cluster.minNodes}
                        title={active <= cluster.minNodes ? `The cluster is at its minimum of ${cluster.minNodes} active node(s).` : undefined}
                      >
                        Remove
                      </button>
                    ) : runbook ? (
                      <a href={runbookPath(runbook)}>{node.state === 'removing' ? 'removal' : 'deployment'} in progress →</a>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ScriptForm({ cluster }: { cluster: Cluster }) {
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

const policyHelp: Record<(typeof failurePolicies)[number], string> = {
  'fail-fast': 'fail-fast: start no more nodes after the first failure',
  continue: 'continue: run every node, then fail if any failed',
  tolerate: 'tolerate: succeed while at most a fraction failed',
};

function ScriptRunsTable({ runs }: { runs: ExecutionSummary[] }) {
  if (runs.length === 0) return <p class="muted">No script run yet.</p>;
  return (
    <table class="script-runs">
      <thead>
        <tr>
          <th>Run</th>
          <th>State</th>
          <th>Started</th>
          <th>Ended</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {runs.map((e) => (
          <tr data-workflow-id={e.workflowId}>
            <td>
              <a href={scriptRunPath(e.workflowId)}>
                <code>{e.workflowId.split(':')[2]?.slice(0, 8)}</code>
              </a>
            </td>
            <td>
              <Badge status={e.fleetStatus ?? e.status} />
            </td>
            <td>
              <Time iso={e.startTime} />
            </td>
            <td>
              <Time iso={e.closeTime} />
            </td>
            <td>
              <WebUiLink url={e.webUiUrl} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ---------------------------------------------------------------------------------------------
// /nodes/runbooks/:workflowId: steps with live status.

/** Steps that ended well (skipped ones need nothing more) count as done. */
const finishedStep = (step: StepProgress) => step.status === 'done' || step.status === 'skipped';

export function RunbookDetails({ view }: { view: RunbookView }) {
  const live = view.execution === 'RUNNING';
  const poll = live ? { 'hx-get': `/ui/partials/nodes/runbooks/${encodeURIComponent(view.workflowId)}`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {};
  const finished = view.steps.filter(finishedStep).length;
  const failed = view.steps.filter((s) => s.status === 'failed' || s.status === 'compensation-failed').length;
  const title = view.kind === 'deploy' ? `Deployment of ${view.node ?? 'a new node'} to ${view.cluster}` : `Removal of ${view.node ?? 'a node'} from ${view.cluster}`;
  const failedStep = view.failure ? view.steps.find((s) => s.name === view.failure!.step) : undefined;
  return (
    <div id="runbook" data-state={view.state} data-execution={view.execution} {...poll}>
      <div class="section-head">
        <h1>
          {title} <Badge status={view.state} />
        </h1>
        <a href={clusterPath(view.cluster)}>Cluster {view.cluster} →</a>
      </div>
      <div class="progress" data-progress="steps" title="steps done or skipped">
        <div class="bar counted" style={`width:${percent(finished, view.steps.length)}%`}></div>
        <div class="bar failed" style={`left:${percent(finished, view.steps.length)}%;width:${percent(failed, view.steps.length)}%`}></div>
        <span>
          {finished} / {view.steps.length} steps
        </span>
      </div>
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
          {view.closeTime ? <Time iso={view.closeTime} /> : <span class="muted">running</span>}
          {!live && view.execution !== 'COMPLETED' && view.execution !== 'FAILED' ? <> ({view.execution.toLowerCase()})</> : null}
        </dd>
        <TemporalHistoryFact url={view.webUiUrl} />
      </dl>
      <ol class="steps">
        {view.steps.map((step) => (
          <li data-step={step.name} data-status={step.status}>
            <Badge status={step.status} />
            <span class="step-label">{step.label}</span>
            <span class="step-time muted">{stepDuration(step)}</span>
            {step.detail ? <div class="step-detail muted">{step.detail}</div> : null}
            {step.error ? <div class="step-detail error-text">{step.error}</div> : null}
          </li>
        ))}
      </ol>
    </div>
  );
}

// ---------------------------------------------------------------------------------------------
// /nodes/script-runs/:workflowId: per-node results.

const outcomeFailed = (n: NodeScriptResult) => failedOutcomes.includes(n.outcome) || n.outcome === 'skipped';

function NodeOutput({ result }: { result: NodeScriptResult }) {
  if (!result.stdout && !result.stderr && !result.error) return <span class="muted">{result.outcome === 'pending' || result.outcome === 'running' ? '…' : 'no output'}</span>;
  return (
    <>
      {result.error ? <div class="error-text">{result.error}</div> : null}
      {result.stdout ? (
        <pre class="output stdout" title="stdout">
          {result.stdout}
        </pre>
      ) : null}
      {result.stderr ? (
        <pre class="output stderr" title="stderr">
          {result.stderr}
        </pre>
      ) : null}
      {result.truncated ? <span class="badge truncated">truncated</span> : null}
    </>
  );
}

export function ScriptRunDetails({ view }: { view: ScriptRunView }) {
  const live = view.execution === 'RUNNING';
  const poll = live ? { 'hx-get': `/ui/partials/nodes/script-runs/${encodeURIComponent(view.workflowId)}`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' } : {};
  const total = view.nodes.length;
  const ended = view.nodes.filter((n) => n.outcome !== 'pending' && n.outcome !== 'running');
  const failed = ended.filter(outcomeFailed).length;
  const succeeded = ended.length - failed;
  return (
    <div id="script-run" data-state={view.state} data-execution={view.execution} {...poll}>
      <div class="section-head">
        <h1>
          Script run <code>{view.runId.slice(0, 8)}</code> on {view.cluster} <Badge status={view.state} />
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
      <div class="progress" data-progress="nodes" title="nodes finished (failed in red)">
        <div class="bar counted" style={`width:${percent(succeeded, total)}%`}></div>
        <div class="bar failed" style={`left:${percent(succeeded, total)}%;width:${percent(failed, total)}%`}></div>
        <span>
          {ended.length} / {total} nodes{failed > 0 ? ` (${failed} failed)` : ''}
        </span>
      </div>
      <dl class="facts">
        <dt>Policy</dt>
        <dd>
          {policyHelp[view.failurePolicy]}
          {view.failurePolicy === 'tolerate' ? ` (${Math.round(view.toleratedFailureFraction * 100)} %)` : ''}
        </dd>
        <dt>Parallelism</dt>
        <dd>{view.parallelism}</dd>
        <dt>Started</dt>
        <dd>
          <Time iso={view.startedAt} />
        </dd>
        <dt>Ended</dt>
        <dd>{view.endedAt ? <Time iso={view.endedAt} /> : <span class="muted">{live ? 'running' : view.execution.toLowerCase()}</span>}</dd>
        <TemporalHistoryFact url={view.webUiUrl} />
      </dl>
      {total === 0 ? (
        <p class="muted">{live ? 'Finding the cluster’s active nodes…' : 'No node ran.'}</p>
      ) : (
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
            {view.nodes.map((result) => (
              <tr data-node={result.node} data-outcome={result.outcome}>
                <td>{result.node}</td>
                <td>
                  <Badge status={result.outcome} />
                </td>
                <td data-exit-code={result.exitCode ?? ''}>{result.exitCode ?? <span class="muted">–</span>}</td>
                <td>{duration(result.durationMs)}</td>
                <td class="output-cell">
                  <NodeOutput result={result} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------

type Mailbox = Awaited<ReturnType<NodesService['mailbox']>>;

function MailList({ mailbox, to }: { mailbox: Mailbox; to: string }) {
  if (mailbox.messages.length === 0) return <p class="muted">{to ? `No message to ${to}.` : 'No message yet: deployments and removals mail their cluster’s notify address.'}</p>;
  const newestFirst = [...mailbox.messages].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  return (
    <>
      <p class="muted">
        {newestFirst.length < mailbox.total ? `Newest ${newestFirst.length} of ${mailbox.total} messages.` : `${mailbox.total} message(s), newest first.`}
      </p>
      <div class="mails">
        {newestFirst.map((m) => (
          <article class="mail" data-mail-id={m.id}>
            <header>
              <strong class="mail-subject">{m.subject || '(no subject)'}</strong>
              <span class="muted">
                <Time iso={m.receivedAt} /> · to {m.to.join(', ')} · from {m.from}
              </span>
            </header>
            <pre class="output">{m.text}</pre>
          </article>
        ))}
      </div>
    </>
  );
}

export function nodesPages(deps: NodesPagesDependencies) {
  const { service } = deps;
  const { model } = service;
  const page = (title: string, body: Child) => (
    <Layout title={title} active="/nodes" temporalWebUiUrl={deps.temporalWebUiUrl}>
      {body}
    </Layout>
  );

  /** A page whose subject does not exist (or a request it refuses) as HTML, not the API's JSON. */
  async function pageOr404(c: Context, render: () => Promise<Response>) {
    try {
      return await render();
    } catch (error) {
      const notFound = error instanceof WorkflowNotFoundError ? new ServiceError(404, 'not_found', `No workflow with ID ${error.workflowId}.`) : error;
      if (!(notFound instanceof ServiceError)) throw error;
      return c.html(
        page(
          'Not found',
          <section>
            <h1>Not found</h1>
            <p class="error-text">{notFound.message}</p>
            <a href="/nodes">All clusters</a>
          </section>,
        ),
        notFound.status,
      );
    }
  }

  /** The same, for a polled fragment: the message replaces the fragment (and so ends the polling). */
  async function fragmentOrError(c: Context, render: () => Promise<Response>) {
    try {
      return await render();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return c.html(<p class="error-text">No workflow with ID {error.workflowId}.</p>);
      if (error instanceof ServiceError) return c.html(<p class="error-text">{error.message}</p>);
      throw error;
    }
  }

  const clusterForm = async (props: Omit<ClusterFormProps, 'ec2Profiles' | 'sshProfiles'> = {}) => (
    <ClusterForm ec2Profiles={await model.listEc2Profiles()} sshProfiles={await model.listSshProfiles()} {...props} />
  );

  const clusterRunbooks = (cluster: string) => service.recentRunbooks(50, cluster).then((list) => list.slice(0, 10));

  return new Hono()
    .get('/nodes', async (c) => {
      const [clusters, ec2Profiles, sshProfiles, runbooks] = await Promise.all([model.listClusters(), model.listEc2Profiles(), model.listSshProfiles(), service.recentRunbooks(15)]);
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
              <div id="clusters">
                <ClustersTable clusters={clusters} />
              </div>
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
            <section>
              <h2>EC2 profiles</h2>
              <div id="ec2-profiles">
                <Ec2ProfilesTable profiles={ec2Profiles} />
              </div>
              <h3>Create or update an EC2 profile</h3>
              <p class="muted">Saving under an existing name replaces that profile; clusters using it launch their next nodes with it.</p>
              <Ec2ProfileForm />
            </section>
            <section>
              <h2>SSH profiles</h2>
              <p class="muted">Only the key’s reference is stored: the worker reads the key from its SSH keys directory.</p>
              <div id="ssh-profiles">
                <SshProfilesTable profiles={sshProfiles} />
              </div>
              <h3>Create or update an SSH profile</h3>
              <SshProfileForm />
            </section>
          </>,
        ),
      );
    })
    .post('/ui/nodes/clusters', async (c) => {
      const form = await c.req.parseBody();
      try {
        const cluster = await service.putCluster(formToCluster(form), false);
        return c.html(
          <>
            {await clusterForm({
              notice: (
                <>
                  Created cluster <a href={clusterPath(cluster.name)}>{cluster.name}</a>.
                </>
              ),
            })}
            <div id="clusters" hx-swap-oob="true">
              <ClustersTable clusters={await model.listClusters()} />
            </div>
          </>,
        );
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return c.html(await clusterForm({ values: form, error: error.message }));
      }
    })
    .get('/ui/nodes/ec2-profile-form', async (c) => {
      const name = c.req.query('name');
      if (!name) return c.html(<Ec2ProfileForm />);
      const profile = await model.getEc2Profile(name);
      return c.html(profile ? <Ec2ProfileForm values={asFormValues(profile)} /> : <Ec2ProfileForm values={{ name }} error={`No EC2 profile named ${JSON.stringify(name)}.`} />);
    })
    .post('/ui/nodes/ec2-profiles', async (c) => {
      const form = await c.req.parseBody();
      try {
        const profile = formToEc2Profile(form);
        const existed = Boolean(await model.getEc2Profile(profile.name));
        await model.putEc2Profile(profile);
        c.header('HX-Trigger', PROFILES_CHANGED);
        return c.html(
          <>
            <Ec2ProfileForm notice={`${existed ? 'Updated' : 'Created'} EC2 profile ${profile.name}.`} />
            <div id="ec2-profiles" hx-swap-oob="true">
              <Ec2ProfilesTable profiles={await model.listEc2Profiles()} />
            </div>
          </>,
        );
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return c.html(<Ec2ProfileForm values={form} error={error.message} />);
      }
    })
    .get('/ui/nodes/ssh-profile-form', async (c) => {
      const name = c.req.query('name');
      if (!name) return c.html(<SshProfileForm />);
      const profile = await model.getSshProfile(name);
      return c.html(profile ? <SshProfileForm values={asFormValues(profile)} /> : <SshProfileForm values={{ name }} error={`No SSH profile named ${JSON.stringify(name)}.`} />);
    })
    .post('/ui/nodes/ssh-profiles', async (c) => {
      const form = await c.req.parseBody();
      try {
        const profile = formToSshProfile(form);
        const existed = Boolean(await model.getSshProfile(profile.name));
        await model.putSshProfile(profile);
        c.header('HX-Trigger', PROFILES_CHANGED);
        return c.html(
          <>
            <SshProfileForm notice={`${existed ? 'Updated' : 'Created'} SSH profile ${profile.name}.`} />
            <div id="ssh-profiles" hx-swap-oob="true">
              <SshProfilesTable profiles={await model.listSshProfiles()} />
            </div>
          </>,
        );
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        // A key pasted where its file name belongs is refused, and not sent back into the page.
        const keyRef = /PRIVATE KEY|-----BEGIN/.test(text(form, 'keyRef')) ? '' : text(form, 'keyRef');
        return c.html(<SshProfileForm values={{ ...form, keyRef }} error={error.message} />);
      }
    })
    .get('/ui/partials/nodes/profile-options/:kind{ec2|ssh}', async (c) => {
      const kind = c.req.param('kind') as 'ec2' | 'ssh';
      const profiles = kind === 'ec2' ? await model.listEc2Profiles() : await model.listSshProfiles();
      return c.html(<ProfileOptions names={profiles.map((p) => p.name)} selected={c.req.query(`${kind}Profile`) ?? ''} />);
    })
    .get('/nodes/mailbox', async (c) => {
      const to = c.req.query('to')?.trim() ?? '';
      let content: Child;
      try {
        content = <MailList mailbox={await service.mailbox(to || undefined)} to={to} />;
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        content = <p class={error.code === 'no_local_mailbox' ? 'notice' : 'error-text'}>{error.message}</p>;
      }
      return c.html(
        page(
          'Mailbox',
          <section>
            <div class="section-head">
              <h1>Mailbox</h1>
              <form class="inline-filter" method="get" action="/nodes/mailbox">
                <input type="search" name="to" value={to} placeholder="recipient" aria-label="Recipient" />
                <button class="plain" type="submit">
                  Filter
                </button>
              </form>
            </div>
            <p class="muted">What the runbooks mailed, as the local SMTP sink received it; nothing is relayed.</p>
            {content}
          </section>,
        ),
      );
    })
    .get('/nodes/clusters/:name', (c) =>
      pageOr404(c, async () => {
        const { cluster, nodes } = await service.clusterDetail(c.req.param('name'));
        const [scriptRuns, runbooks, editForm] = await Promise.all([
          service.recentScriptRuns(10, cluster.name),
          clusterRunbooks(cluster.name),
          clusterForm({ editing: cluster.name, values: asFormValues(cluster) }),
        ]);
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
                      hx-post={`/ui/nodes/clusters/${encodeURIComponent(cluster.name)}/deployments`}
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
                    hx-post={`/ui/nodes/clusters/${encodeURIComponent(cluster.name)}/delete`}
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
    .post('/ui/nodes/clusters/:name', async (c) => {
      const name = c.req.param('name');
      const form = await c.req.parseBody();
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
    .post('/ui/nodes/clusters/:name/delete', async (c) => {
      const name = c.req.param('name');
      try {
        await model.deleteCluster(name);
      } catch (error) {
        return refusal(c, error);
      }
      return redirect(c, `/nodes?deleted=${encodeURIComponent(name)}`, `Deleted cluster ${name}.`);
    })
    .get('/ui/partials/nodes/clusters/:name/nodes', (c) =>
      fragmentOrError(c, async () => {
        const { cluster, nodes } = await service.clusterDetail(c.req.param('name'));
        return c.html(<NodesTable cluster={cluster} nodes={nodes} />);
      }),
    )
    .post('/ui/nodes/clusters/:name/deployments', async (c) => {
      const form = await c.req.parseBody();
      try {
        const body = parseWith(deploySchema, { deploymentId: text(form, 'deploymentId') || undefined, timings: deps.deployTimings });
        const started = await service.startDeployment(c.req.param('name'), body);
        return goTo(c, runbookPath(started.workflowId), 'the deployment');
      } catch (error) {
        // The button's deployment ID makes a second click the same deployment: show it.
        if (error instanceof ServiceError && error.code === 'deployment_exists') return goTo(c, runbookPath(error.details.workflowId as string), 'the deployment');
        return refusal(c, error);
      }
    })
    .post('/ui/nodes/clusters/:name/nodes/:node/remove', async (c) => {
      try {
        const started = await service.startRemoval(c.req.param('name'), c.req.param('node'), { timings: deps.deployTimings });
        return goTo(c, runbookPath(started.workflowId), 'the removal');
      } catch (error) {
        if (error instanceof ServiceError && error.code === 'already_running') return goTo(c, runbookPath(error.details.workflowId as string), 'the removal');
        return refusal(c, error);
      }
    })
    .post('/ui/nodes/clusters/:name/scripts', async (c) => {
      try {
        const started = await service.startScript(c.req.param('name'), formToScript(await c.req.parseBody()));
        return goTo(c, scriptRunPath(started.workflowId), 'the script run');
      } catch (error) {
        return refusal(c, error);
      }
    })
    .get('/nodes/runbooks/:workflowId', (c) =>
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
    .get('/ui/partials/nodes/runbooks/:workflowId', (c) => fragmentOrError(c, async () => c.html(<RunbookDetails view={await service.runbook(c.req.param('workflowId'))} />)))
    .get('/nodes/script-runs/:workflowId', (c) =>
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
    .get('/ui/partials/nodes/script-runs/:workflowId', (c) => fragmentOrError(c, async () => c.html(<ScriptRunDetails view={await service.scriptRun(c.req.param('workflowId'))} />)))
    .post('/ui/nodes/script-runs/:workflowId/rerun-failed', async (c) => {
      try {
        const started = await service.rerunFailed(c.req.param('workflowId'));
        return goTo(c, scriptRunPath(started.workflowId), 'the re-run');
      } catch (error) {
        return refusal(c, error);
      }
    });
}

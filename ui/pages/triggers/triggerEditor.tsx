// The trigger editor (admins): a trigger's fields and its chain of actions, on /triggers/:name/edit,
// and the same form as "New trigger" on /triggers. No client code: Add, Up, Down and Remove post the
// form as it stands and get it back rearranged (nothing is stored until Save), and Save puts the whole
// definition through services.triggers.putTrigger, as PUT /api/triggers/:name does.
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { access } from '../../../server/access.ts';
import { parseInput, ServiceError } from '../../../services/errors.ts';
import type { StoredCounter, StoredTrigger } from '../../../db/triggers.ts';
import {
  actionKinds,
  actionTargets,
  comparisons,
  MAX_CHAIN_ACTIONS,
  nodeCombinations,
  onFailurePolicies,
  triggerNameSchema,
  triggerSchema,
  type Action,
  type ActionKind,
} from '../../../workflows/triggers.shared.ts';
import { FormActions } from '../../components/formActions.tsx';
import { readForm, type Form } from '../../forms.ts';
import { asFormValues, line, number, redirect, text } from '../nodes/shared.tsx';
import { cfAppFields, FieldInput, fieldValue, type FieldSpec } from './fields.tsx';
import { triggerPath, type TriggerPagesDependencies, type TriggersFrame } from './shared.tsx';

/** Every kind's own fields (beside label, target and onFailure), as data: one form renders and reads them all. */
export const actionFields: Record<ActionKind, FieldSpec[]> = {
  'deploy-node': [{ name: 'timings', label: 'Timings (JSON)', input: 'json', optional: true, placeholder: '{"pollMs": 1000}' }],
  'remove-node': [{ name: 'timings', label: 'Timings (JSON)', input: 'json', optional: true, placeholder: '{"pollMs": 1000}' }],
  puppet: [{ name: 'manifest', label: 'Manifest', input: 'textarea', placeholder: 'package { "htop": ensure => installed }' }],
  'local-script': [{ name: 'script', label: 'Script', input: 'textarea', placeholder: 'systemctl restart tomcat' }],
  'distributed-script': [
    { name: 'script', label: 'Script', input: 'textarea', placeholder: 'echo "$FLEET_NODE"' },
    { name: 'parallelism', label: 'Parallelism', input: 'number', optional: true, placeholder: '10' },
  ],
  email: [
    { name: 'address', label: 'Address', input: 'email', placeholder: 'ops@fleet.local' },
    { name: 'title', label: 'Title', input: 'text', placeholder: '{trigger} fired on {cluster}' },
    { name: 'content', label: 'Content', input: 'textarea', placeholder: 'Value {value} on {node} at {firedAt}' },
  ],
  'cf-scale': [
    ...cfAppFields,
    { name: 'instances', label: 'Set instances to', input: 'number', optional: true },
    { name: 'delta', label: 'Or change by', input: 'number', optional: true },
  ],
  'cpu-load': [
    { name: 'loadTarget', label: 'CPU-load target', input: 'text', optional: true, placeholder: 'default' },
    { name: 'state', label: 'Switch', input: 'select', options: ['ON', 'OFF'] },
    { name: 'ttlSeconds', label: 'For seconds', input: 'number', optional: true },
  ],
  'request-run': [
    { name: 'url', label: 'URL', input: 'text', placeholder: 'http://localhost:3000/receiver' },
    { name: 'calls', label: 'Calls', input: 'number' },
    { name: 'concurrency', label: 'Concurrency', input: 'number', optional: true },
  ],
};

/** What every action has. */
export const commonActionFields: FieldSpec[] = [
  { name: 'label', label: 'Label', input: 'text', optional: true },
  { name: 'target', label: 'Target', input: 'select', options: actionTargets },
  { name: 'onFailure', label: 'On failure', input: 'select', options: onFailurePolicies },
];

/** The form as it stands: the trigger's fields, and each action's (all as typed, strings). */
export interface EditorValues {
  fields: Form;
  chain: Form[];
}

export const newTriggerValues = (): EditorValues => ({
  fields: { combine: 'any', intervalMs: '60000', heldForMs: '60000', keepFiringForMs: '0', repeatAfterMs: '0', cooldownMs: '300000', enabled: 'on', 'circuitBreaker.maxFirings': '5', 'circuitBreaker.windowMs': '3600000' },
  chain: [],
});

export function storedTriggerValues(trigger: StoredTrigger): EditorValues {
  const optional = (value: number | string | null | undefined) => (value === null || value === undefined ? '' : String(value));
  return {
    fields: {
      cluster: trigger.cluster,
      combine: trigger.combine,
      comparison: trigger.comparison ?? '',
      threshold: optional(trigger.threshold),
      intervalMs: String(trigger.intervalMs),
      heldForMs: String(trigger.heldForMs),
      clearThreshold: optional(trigger.clearThreshold),
      keepFiringForMs: String(trigger.keepFiringForMs),
      repeatAfterMs: String(trigger.repeatAfterMs ?? 0),
      cooldownMs: String(trigger.cooldownMs),
      enabled: trigger.enabled ? 'on' : '',
      'circuitBreaker.maxFirings': String(trigger.circuitBreaker.maxFirings),
      'circuitBreaker.windowMs': String(trigger.circuitBreaker.windowMs),
      notify: trigger.notify ?? '',
      ...Object.fromEntries(trigger.counters.map((name) => [`counter.${name}`, 'on'])),
    },
    chain: trigger.chain.map((action: Action) => asFormValues(action)),
  };
}

/** A posted form split into the trigger's fields and its actions, in their index order. */
export function editorValuesOf(form: Form): EditorValues {
  const fields: Form = {};
  const chain = new Map<number, Form>();
  for (const [key, value] of Object.entries(form)) {
    const match = /^chain\.(\d+)\.(.+)$/.exec(key);
    if (!match) {
      fields[key] = value;
      continue;
    }
    const action = chain.get(Number(match[1])) ?? {};
    action[match[2]!] = value;
    chain.set(Number(match[1]), action);
  }
  return { fields, chain: [...chain.entries()].sort(([a], [b]) => a - b).map(([, action]) => action) };
}

/** The chain rearranged by one of the editor's buttons: `add`, `up:<i>`, `down:<i>`, `remove:<i>`. */
export function rearranged(values: EditorValues, op: string): EditorValues {
  const chain = [...values.chain];
  const [verb, at] = op.split(':');
  const i = Number(at);
  if (verb === 'add') {
    const kind = line(values.fields, 'newKind');
    if ((actionKinds as string[]).includes(kind) && chain.length < MAX_CHAIN_ACTIONS) chain.push({ kind, target: kind === 'local-script' || kind === 'puppet' ? 'lastnode' : 'none', onFailure: 'stop' });
  } else if (verb === 'up' && i > 0 && i < chain.length) [chain[i - 1], chain[i]] = [chain[i]!, chain[i - 1]!];
  else if (verb === 'down' && i >= 0 && i < chain.length - 1) [chain[i], chain[i + 1]] = [chain[i + 1]!, chain[i]!];
  else if (verb === 'remove' && i >= 0 && i < chain.length) chain.splice(i, 1);
  return { ...values, chain };
}

export function actionBody(form: Form): Record<string, unknown> {
  const kind = line(form, 'kind') as ActionKind;
  const fields = [...commonActionFields, ...(actionFields[kind] ?? [])];
  return { kind, ...Object.fromEntries(fields.map((field) => [field.name, fieldValue(form, field)]).filter(([, value]) => value !== undefined)) };
}

/** The editor's values as PUT /api/triggers/:name takes them (the schema then says what is wrong). */
export function triggerBody(values: EditorValues): Record<string, unknown> {
  const f = values.fields;
  const nullable = (name: string) => (line(f, name) === '' ? null : number(f, name));
  const maxFirings = number(f, 'circuitBreaker.maxFirings');
  const windowMs = number(f, 'circuitBreaker.windowMs');
  return {
    cluster: line(f, 'cluster'),
    counters: Object.keys(f).filter((key) => key.startsWith('counter.') && f[key]).map((key) => key.slice('counter.'.length)),
    combine: line(f, 'combine') || undefined,
    comparison: line(f, 'comparison') || null,
    threshold: nullable('threshold'),
    intervalMs: number(f, 'intervalMs'),
    heldForMs: number(f, 'heldForMs'),
    clearThreshold: nullable('clearThreshold'),
    keepFiringForMs: number(f, 'keepFiringForMs'),
    repeatAfterMs: number(f, 'repeatAfterMs'),
    cooldownMs: number(f, 'cooldownMs'),
    enabled: f.enabled === 'on',
    ...(maxFirings === undefined && windowMs === undefined ? {} : { circuitBreaker: { maxFirings, windowMs } }),
    notify: line(f, 'notify') || null,
    chain: values.chain.map(actionBody),
  };
}

interface TriggerFormProps {
  /** The trigger edited (its name is fixed); without it the form creates one. */
  editing?: string;
  values: EditorValues;
  clusters: string[];
  counters: StoredCounter[];
  error?: ServiceError;
  notice?: Child;
}

function ActionFieldset({ action, index, count, invalidField }: { action: Form; index: number; count: number; invalidField?: string }) {
  const kind = line(action, 'kind') as ActionKind;
  const prefix = `chain.${index}`;
  const fields = [...commonActionFields, ...(actionFields[kind] ?? [])];
  const button = (op: string, label: string, disabled = false, danger = false) => (
    <button type="submit" name="op" value={`${op}:${index}`} class={danger ? 'danger' : 'plain'} disabled={disabled} aria-label={`${label} action ${index + 1}`}>
      {label}
    </button>
  );
  return (
    <fieldset class="action" data-index={String(index)} data-kind={kind}>
      <legend>
        {index + 1}. {kind}
      </legend>
      <input type="hidden" name={`${prefix}.kind`} value={kind} />
      {fields.map((field) => (
        <>
          <label for={`${prefix}.${field.name}`}>{field.label}</label>
          <FieldInput id={`${prefix}.${field.name}`} field={field} values={action} invalid={invalidField === `${prefix}.${field.name}` || invalidField === `${prefix}.kind`} />
        </>
      ))}
      <div class="action-buttons">
        {button('up', 'Up', index === 0)}
        {button('down', 'Down', index === count - 1)}
        {button('remove', 'Remove', false, true)}
      </div>
    </fieldset>
  );
}

const fieldsOfTrigger: { name: string; label: string; hint?: string }[] = [
  { name: 'intervalMs', label: 'Interval (ms)', hint: 'How often it is evaluated.' },
  { name: 'heldForMs', label: 'Held for (ms)', hint: 'From the first breaching evaluation until it fires: 0, or at least the interval.' },
  { name: 'clearThreshold', label: 'Clear threshold', hint: 'Hysteresis (one counter only): once breaching, clears only past this value. Optional.' },
  { name: 'keepFiringForMs', label: 'Keep firing for (ms)', hint: 'Hysteresis: the breach counts for this long after it was last seen.' },
  { name: 'repeatAfterMs', label: 'Repeat after (ms)', hint: 'Step scaling: while the condition holds, fire again this long after the last firing (0: once per episode).' },
  { name: 'cooldownMs', label: 'Cooldown (ms)', hint: 'No new firing for this long after one cleared.' },
];

export function TriggerForm({ editing, values, clusters, counters, error, notice }: TriggerFormProps) {
  const f = values.fields;
  const invalidField = typeof error?.details.field === 'string' ? error.details.field : undefined;
  const invalid = (name: string) => (invalidField === name ? { 'aria-invalid': 'true' } : {});
  const value = (name: string) => text(f, name);
  const action = editing ? `/ui/triggers/${encodeURIComponent(editing)}/edit` : '/ui/triggers';
  return (
    <form id="trigger-form" class="stacked wide" hx-post={action} hx-target="this" hx-swap="outerHTML">
      {editing ? null : (
        <>
          <label for="trigger-name">Name</label>
          <input id="trigger-name" name="name" value={value('name')} placeholder="web-scale-out" required autocomplete="off" {...invalid('name')} />
        </>
      )}
      <label for="trigger-cluster">Cluster</label>
      <select id="trigger-cluster" name="cluster" {...invalid('cluster')}>
        {clusters.length === 0 ? <option value="">no cluster yet</option> : null}
        {clusters.map((name) => (
          <option value={name} selected={name === value('cluster')}>
            {name}
          </option>
        ))}
      </select>
      <span>Counters</span>
      <span class="counter-checks" {...invalid('counters')}>
        {counters.length === 0 ? (
          <span class="muted">
            No counter yet: <a href="/counters/new">define one</a>.
          </span>
        ) : (
          counters.map((counter) => (
            <label>
              <input type="checkbox" name={`counter.${counter.name}`} checked={Boolean(f[`counter.${counter.name}`])} /> {counter.name}{' '}
              <span class="muted">
                ({counter.comparison} {counter.threshold})
              </span>
            </label>
          ))
        )}
      </span>
      <label for="trigger-combine">Nodes combine</label>
      <select id="trigger-combine" name="combine" {...invalid('combine')}>
        {nodeCombinations.map((combine) => (
          <option value={combine} selected={combine === value('combine')}>
            {combine}
          </option>
        ))}
      </select>
      <label for="trigger-comparison">Fires when</label>
      <span>
        <select id="trigger-comparison" name="comparison" aria-label="Comparison" {...invalid('comparison')}>
          <option value="">each counter's own condition</option>
          {comparisons.map((comparison) => (
            <option value={comparison} selected={comparison === value('comparison')}>
              {comparison}
            </option>
          ))}
        </select>{' '}
        <input id="trigger-threshold" name="threshold" value={value('threshold')} placeholder="threshold" aria-label="Threshold" size={8} {...invalid('threshold')} />
      </span>
      {fieldsOfTrigger.map((field) => (
        <>
          <label for={`trigger-${field.name}`}>{field.label}</label>
          <input id={`trigger-${field.name}`} name={field.name} value={value(field.name)} inputmode="decimal" {...invalid(field.name)} />
          {field.hint ? <span class="hint muted">{field.hint}</span> : null}
        </>
      ))}
      <label for="trigger-maxFirings">Circuit breaker</label>
      <span>
        at most <input id="trigger-maxFirings" name="circuitBreaker.maxFirings" value={value('circuitBreaker.maxFirings')} size={4} aria-label="Most firings" {...invalid('circuitBreaker.maxFirings')} /> firings
        per <input id="trigger-windowMs" name="circuitBreaker.windowMs" value={value('circuitBreaker.windowMs')} size={9} aria-label="Window (ms)" {...invalid('circuitBreaker.windowMs')} /> ms
      </span>
      <label for="trigger-notify">Notify</label>
      <input id="trigger-notify" name="notify" type="email" value={value('notify')} placeholder="the cluster's notify address" {...invalid('notify')} />
      <label for="trigger-enabled">Enabled</label>
      <input id="trigger-enabled" name="enabled" type="checkbox" checked={f.enabled === 'on'} />
      <div class="chain-editor" id="chain-editor">
        <h3>Chain</h3>
        <p class="muted">
          Run in order when the trigger fires; an action that fails stops the chain unless it says continue. Placeholders in an email: <code>{'{trigger}'}</code>,{' '}
          <code>{'{cluster}'}</code>, <code>{'{value}'}</code> (<code>{'{value:<counter>}'}</code>), <code>{'{node}'}</code>, <code>{'{cause}'}</code>, <code>{'{firedAt}'}</code>.
        </p>
        {values.chain.length === 0 ? <p class="muted">No action yet: the chain does nothing.</p> : null}
        {values.chain.map((a, index) => (
          <ActionFieldset action={a} index={index} count={values.chain.length} invalidField={invalidField} />
        ))}
        <div class="add-action">
          <label for="newKind">Add an action</label>
          <select id="newKind" name="newKind">
            {actionKinds.map((kind) => (
              <option value={kind} selected={kind === value('newKind')}>
                {kind}
              </option>
            ))}
          </select>
          <button type="submit" name="op" value="add" class="plain" disabled={values.chain.length >= MAX_CHAIN_ACTIONS}>
            Add action
          </button>
        </div>
      </div>
      <FormActions submit={editing ? 'Save trigger' : 'Create trigger'} error={error?.message} notice={notice}>
        <span class="muted">Nothing is stored until you save.</span>
      </FormActions>
    </form>
  );
}

/** The form's choices: the clusters, the counters. */
async function formChoices(deps: TriggerPagesDependencies) {
  const [clusters, counters] = await Promise.all([deps.nodes.model.listClusters(), deps.triggers.listCounters()]);
  return { clusters: clusters.map((c) => c.name), counters };
}

export async function newTriggerForm(deps: TriggerPagesDependencies, props: Partial<TriggerFormProps> = {}) {
  return <TriggerForm values={newTriggerValues()} {...(await formChoices(deps))} {...props} />;
}

/** What Save answers when the schema, the service or the model refuses: the form as typed, the problem beside it. */
async function refused(c: Context, deps: TriggerPagesDependencies, error: unknown, props: Omit<TriggerFormProps, 'clusters' | 'counters'>) {
  if (!(error instanceof ServiceError)) throw error;
  return c.html(<TriggerForm {...(await formChoices(deps))} {...props} error={error} />);
}

export function triggerEditorRoutes(deps: TriggerPagesDependencies, { page, pageOr404 }: TriggersFrame) {
  const { triggers } = deps;
  return new Hono()
    .get('/triggers/:name/edit', access('admin'), (c) =>
      pageOr404(c, async () => {
        const trigger = await triggers.getTrigger(c.req.param('name'));
        return c.html(
          page(
            `Edit trigger ${trigger.name}`,
            <section>
              <div class="section-head">
                <h1>Edit trigger {trigger.name}</h1>
                <a href={triggerPath(trigger.name)}>Back to the trigger</a>
              </div>
              <p class="muted">
                Saving replaces the whole definition (as <code>PUT /api/triggers/{trigger.name}</code>); a chain running now keeps the actions it started with.
                Counters are defined on the <a href="/counters">Counters</a> page.
              </p>
              <TriggerForm editing={trigger.name} values={storedTriggerValues(trigger)} {...(await formChoices(deps))} />
            </section>,
          ),
        );
      }),
    )
    .post('/ui/triggers/:name/edit', access('admin'), async (c) => {
      const name = c.req.param('name');
      const values = editorValuesOf(await readForm(c));
      const op = line(values.fields, 'op') || 'save';
      if (op !== 'save') return c.html(<TriggerForm editing={name} values={rearranged(values, op)} {...(await formChoices(deps))} />);
      try {
        await triggers.getTrigger(name);
        const { trigger } = await triggers.putTrigger(name, parseInput(triggerSchema, triggerBody(values)));
        return c.html(<TriggerForm editing={name} values={storedTriggerValues(trigger)} {...(await formChoices(deps))} notice={`Saved trigger ${name}.`} />);
      } catch (error) {
        return refused(c, deps, error, { editing: name, values });
      }
    })
    .post('/ui/triggers', access('admin'), async (c) => {
      const values = editorValuesOf(await readForm(c));
      const op = line(values.fields, 'op') || 'save';
      if (op !== 'save') return c.html(<TriggerForm values={rearranged(values, op)} {...(await formChoices(deps))} />);
      try {
        const name = parseInput(triggerNameSchema, line(values.fields, 'name'), 'name');
        if (await triggers.model.getTrigger(name)) throw new ServiceError(409, 'already_exists', `A trigger named ${JSON.stringify(name)} already exists.`, { field: 'name' });
        await triggers.putTrigger(name, parseInput(triggerSchema, triggerBody(values)));
        return redirect(c, triggerPath(name), <>Created trigger {name}…</>);
      } catch (error) {
        return refused(c, deps, error, { values });
      }
    });
}


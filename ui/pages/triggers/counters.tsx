// Counters (/counters): the list, and the counter editor (/counters/new, /counters/:name; admins)
// with each kind's fields and a Test that samples the counter as typed, unsaved, on one node of a
// cluster (services.triggerRuns.testCounter), showing the value or the error before anything is saved.
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import { access } from '../../../server/access.ts';
import { parseInput, ServiceError } from '../../../services/errors.ts';
import type { StoredCounter } from '../../../db/triggers.ts';
import { cfProcessMetrics, comparisons, queueBacklogMetrics, counterKinds, counterNameSchema, counterSchema, type CounterKind, type Sample } from '../../../workflows/triggers.shared.ts';
import { FormActions } from '../../components/formActions.tsx';
import { readForm, type Form } from '../../forms.ts';
import { asFormValues, line, redirect, refusal, text } from '../nodes/shared.tsx';
import { cfAppFields, FieldInput, fieldValue, type FieldSpec } from './fields.tsx';
import { counterPath, formatValue, may, triggerPath, type TriggerPagesDependencies, type TriggersFrame } from './shared.tsx';

/** Every kind's own fields (beside comparison, threshold and description). */
export const counterFields: Record<CounterKind, FieldSpec[]> = {
  ssh: [{ name: 'script', label: 'Script (prints one number)', input: 'textarea', placeholder: "awk '{print $1}' /proc/loadavg" }],
  http: [
    { name: 'url', label: 'URL template', input: 'text', placeholder: 'http://{host}:9100/metrics' },
    { name: 'format', label: 'Format', input: 'select', options: ['json', 'prometheus'] },
    { name: 'jsonPointer', label: 'JSON pointer (json)', input: 'text', optional: true, placeholder: '/value' },
    { name: 'metric', label: 'Metric (prometheus)', input: 'text', optional: true, placeholder: 'node_load1' },
    { name: 'labels', label: 'Labels (prometheus)', input: 'text', optional: true, placeholder: 'mode=idle, cpu=0' },
  ],
  'cf-process': [
    ...cfAppFields,
    { name: 'metric', label: 'Metric', input: 'select', options: cfProcessMetrics },
  ],
  'queue-backlog': [
    { name: 'taskQueue', label: 'Temporal task queue', input: 'text', placeholder: 'fractals' },
    { name: 'metric', label: 'Metric (activity tasks waiting, or the oldest one\'s wait in seconds)', input: 'select', options: queueBacklogMetrics },
  ],
};

export const commonCounterFields: FieldSpec[] = [
  { name: 'comparison', label: 'Breaches when the value is', input: 'select', options: comparisons },
  { name: 'threshold', label: 'Threshold', input: 'number', placeholder: '70' },
  { name: 'description', label: 'Description', input: 'text', optional: true },
];

const kindOf = (form: Form): CounterKind => ((counterKinds as readonly string[]).includes(line(form, 'kind')) ? (line(form, 'kind') as CounterKind) : 'ssh');

/** `a=b, c=d` as Prometheus labels; anything else as typed, for the schema to refuse. */
function labelsOf(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const pairs = value.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => pair.split('=').map((part) => part.trim()));
  return pairs.every((pair) => pair.length === 2) ? Object.fromEntries(pairs) : value;
}

/** The form as the counter schema takes it. */
export function counterBody(form: Form): Record<string, unknown> {
  const kind = kindOf(form);
  const fields = [...commonCounterFields, ...counterFields[kind]];
  const entries = fields.map((field) => [field.name, field.name === 'labels' ? labelsOf(fieldValue(form, field)) : fieldValue(form, field)] as const);
  return { kind, ...Object.fromEntries(entries.filter(([, value]) => value !== undefined)) };
}

/** A stored counter as its form shows it (labels as `a=b, c=d`). */
function storedCounterValues(counter: StoredCounter): Form {
  const { name: _n, createdAt: _c, updatedAt: _u, ...body } = counter;
  const labels = 'labels' in body && body.labels ? Object.entries(body.labels).map(([k, v]) => `${k}=${v}`).join(', ') : '';
  return { ...asFormValues(body), labels, name: counter.name };
}

/** An active node to test on: `<cluster>/<node>`. */
interface NodeChoice {
  cluster: string;
  node: string;
}

interface CounterFormProps {
  /** The counter edited (its name is fixed); without it the form creates one. */
  editing?: string;
  values: Form;
  nodes: NodeChoice[];
  error?: ServiceError;
  notice?: Child;
  tested?: { on: NodeChoice; samples: Sample[] } | { error: string };
}

function TestResult({ tested }: { tested: NonNullable<CounterFormProps['tested']> }) {
  if ('error' in tested) {
    return (
      <p id="counter-test-result" class="error-text" role="alert">
        Test refused: {tested.error}
      </p>
    );
  }
  if (tested.samples.length === 0) {
    return (
      <p id="counter-test-result" class="error-text" role="alert">
        {tested.on.node} is not an active node of {tested.on.cluster} any more.
      </p>
    );
  }
  return (
    <div id="counter-test-result" role="status">
      {tested.samples.map((sample) =>
        sample.value === null ? (
          <p class="error-text" data-node={sample.node}>
            {sample.node}: failed: {sample.error}
          </p>
        ) : (
          <p class="notice" data-node={sample.node}>
            {sample.node}: <strong class="test-value">{formatValue(sample.value)}</strong>
          </p>
        ),
      )}
    </div>
  );
}

function CounterForm({ editing, values, nodes, error, notice, tested }: CounterFormProps) {
  const kind = kindOf(values);
  const invalidField = typeof error?.details.field === 'string' ? error.details.field : undefined;
  return (
    <form id="counter-form" class="stacked wide" hx-post="/ui/counters" hx-target="this" hx-swap="outerHTML">
      <label for="counter-name">Name</label>
      {editing ? (
        <span>
          <input type="hidden" name="name" value={editing} />
          <input type="hidden" name="editing" value="yes" />
          <strong>{editing}</strong>
        </span>
      ) : (
        <input id="counter-name" name="name" value={text(values, 'name')} placeholder="cpu-busy" required autocomplete="off" {...(invalidField === 'name' ? { 'aria-invalid': 'true' } : {})} />
      )}
      <label for="counter-kind">Kind</label>
      {/* A new kind brings its own fields: the form comes back with them (what was typed is kept). */}
      <select id="counter-kind" name="kind" hx-post="/ui/counters" hx-trigger="change" hx-vals={JSON.stringify({ op: 'kind' })} hx-target="#counter-form" hx-swap="outerHTML">
        {counterKinds.map((k) => (
          <option value={k} selected={k === kind}>
            {k}
          </option>
        ))}
      </select>
      {[...commonCounterFields, ...counterFields[kind]].map((field) => (
        <>
          <label for={field.name}>{field.label}</label>
          <FieldInput id={field.name} field={field} values={values} invalid={invalidField === field.name} />
        </>
      ))}
      <label for="testNode">Test on</label>
      <span class="add-action">
        <select id="testNode" name="testNode">
          {nodes.length === 0 ? <option value="">no active node in any cluster</option> : null}
          {nodes.map((n) => (
            <option value={`${n.cluster}/${n.node}`} selected={`${n.cluster}/${n.node}` === text(values, 'testNode')}>
              {n.cluster} / {n.node}
            </option>
          ))}
        </select>
        <button type="submit" name="op" value="test" class="plain" disabled={nodes.length === 0}>
          Test
        </button>
        <span class="muted">samples the counter as typed, without saving it</span>
      </span>
      {tested ? (
        <span class="hint">
          <TestResult tested={tested} />
        </span>
      ) : null}
      <FormActions submit={editing ? 'Save counter' : 'Create counter'} error={error?.message} notice={notice} />
    </form>
  );
}

export function countersRoutes(deps: TriggerPagesDependencies, { page, pageOr404 }: TriggersFrame) {
  const { triggers, triggerRuns } = deps;

  const activeNodes = async (): Promise<NodeChoice[]> =>
    (await deps.nodes.model.listNodes()).filter((n) => n.state === 'active').map((n) => ({ cluster: n.cluster, node: n.name }));

  const form = async (props: Omit<CounterFormProps, 'nodes'>) => <CounterForm {...props} nodes={await activeNodes()} />;

  const editorPage = async (c: Context, title: string, body: Child) =>
    c.html(
      page(
        title,
        <section>
          <div class="section-head">
            <h1>{title}</h1>
            <a href="/counters">All counters</a>
          </div>
          <p class="muted">
            A counter reads one number on each node; the comparison and threshold say when it is bad (a trigger may set its own). An <code>http</code> counter's host
            must be in <code>COUNTER_ALLOWED_HOSTS</code>, or be <code>{'{host}'}</code> (the node's SSH host).
          </p>
          {body}
        </section>,
      ),
    );

  /** Test: sample the counter as typed on the chosen node, recording nothing. */
  async function test(values: Form): Promise<CounterFormProps['tested']> {
    const [cluster, node] = line(values, 'testNode').split('/');
    if (!cluster || !node) return { error: 'choose a node to test on' };
    try {
      const name = line(values, 'name') || 'unsaved';
      const body = triggers.checkedCounter(parseInput(counterSchema, counterBody(values)));
      return { on: { cluster, node }, samples: await triggerRuns.testCounter(parseInput(counterNameSchema, name, 'name'), { cluster, counter: body, nodes: [node] }) };
    } catch (error) {
      if (error instanceof ServiceError) return { error: error.message };
      throw error;
    }
  }

  return new Hono()
    .get('/counters', access('viewer'), async (c) => {
      const [counters, allTriggers] = await Promise.all([triggers.listCounters(), triggers.listTriggers()]);
      const admin = may('admin');
      return c.html(
        page(
          'Counters',
          <section>
            <div class="section-head">
              <h1>Counters</h1>
              <div class="actions-row">
                <a href="/triggers">Triggers</a>
                {admin ? (
                  <a class="button" href="/counters/new">
                    New counter
                  </a>
                ) : null}
              </div>
            </div>
            {counters.length === 0 ? (
              <p class="muted">No counter yet.</p>
            ) : (
              <table class="counters">
                <thead>
                  <tr>
                    <th>Counter</th>
                    <th>Kind</th>
                    <th>Breaches when</th>
                    <th>Description</th>
                    <th>Read by</th>
                  </tr>
                </thead>
                <tbody>
                  {counters.map((counter) => (
                    <tr data-counter={counter.name}>
                      <td>{admin ? <a href={counterPath(counter.name)}>{counter.name}</a> : counter.name}</td>
                      <td>{counter.kind}</td>
                      <td>
                        {counter.comparison} {counter.threshold}
                      </td>
                      <td>{counter.description ?? <span class="muted">–</span>}</td>
                      <td>
                        {allTriggers
                          .filter((t) => t.counters.includes(counter.name))
                          .map((t) => (
                            <>
                              <a href={triggerPath(t.name)}>{t.name}</a>{' '}
                            </>
                          ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>,
        ),
      );
    })
    .get('/counters/new', access('admin'), async (c) =>
      editorPage(c, 'New counter', await form({ values: { kind: 'ssh', comparison: '>', threshold: '' } })),
    )
    .get('/counters/:name', access('admin'), (c) =>
      pageOr404(c, async () => {
        const counter = await triggers.getCounter(c.req.param('name'));
        return editorPage(
          c,
          `Counter ${counter.name}`,
          <>
            {await form({ editing: counter.name, values: storedCounterValues(counter) })}
            <p>
              <button
                type="button"
                class="danger"
                hx-post={`/ui/counters/${encodeURIComponent(counter.name)}/delete`}
                hx-confirm={`Delete counter ${counter.name}? Refused while a trigger reads it.`}
                hx-target="#counter-delete-result"
                hx-swap="innerHTML"
              >
                Delete counter
              </button>{' '}
              <span id="counter-delete-result"></span>
            </p>
          </>,
        );
      }),
    )
    .post('/ui/counters', access('admin'), async (c) => {
      const values = await readForm(c);
      const editing = values.editing === 'yes' ? line(values, 'name') : undefined;
      const op = line(values, 'op') || 'save';
      if (op === 'kind') return c.html(await form({ editing, values }));
      if (op === 'test') return c.html(await form({ editing, values, tested: await test(values) }));
      try {
        const name = parseInput(counterNameSchema, line(values, 'name'), 'name');
        if (!editing && (await triggers.model.getCounter(name))) throw new ServiceError(409, 'already_exists', `A counter named ${JSON.stringify(name)} already exists.`, { field: 'name' });
        const { counter } = await triggers.putCounter(name, parseInput(counterSchema, counterBody(values)));
        if (!editing) return redirect(c, counterPath(name), <>Created counter {name}…</>);
        return c.html(await form({ editing: name, values: { ...storedCounterValues(counter), testNode: values.testNode ?? '' }, notice: `Saved counter ${name}.` }));
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return c.html(await form({ editing, values, error }));
      }
    })
    .post('/ui/counters/:name/delete', access('admin'), async (c) => {
      const name = c.req.param('name');
      try {
        await triggers.deleteCounter(name);
      } catch (error) {
        return refusal(c, error);
      }
      return redirect(c, '/counters', `Deleted counter ${name}.`);
    });
}

// Fractals (FAAFO) in the UI: the gallery (/fractals, newest first, five a page as the original's index,
// with a progress bar per batch still rendering), a fractal's page (/fractals/<uuid>: the image, its
// parameters and how it was rendered) and the create form (/fractals/new: one fractal, or a batch drawn
// from ranges). The records and PNGs come from services/fractals.ts; the images from /fractal/<uuid>.
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { Child } from 'hono/jsx';
import * as z from 'zod/mini';
import { access } from '../../server/access.ts';
import type { BatchProgress } from '../../db/fractals.ts';
import { parseInput, ServiceError } from '../../services/errors.ts';
import type { WorkflowLinks } from '../../services/executions.ts';
import type { FractalService, FractalView, Gallery } from '../../services/fractals.ts';
import { wholeNumber } from '../../workflows/validation.shared.ts';
import {
  fractalBatchDefaults,
  fractalBatchSpecSchema,
  fractalCreateSchema,
  fractalImagePath,
  fractalUuidSchema,
  fractalWorkflowId,
  type FractalRecord,
} from '../../workflows/fractals.shared.ts';
import { Duration, StatusBadge, Time } from '../components/format.tsx';
import { FormActions } from '../components/formActions.tsx';
import { ProgressBar } from '../components/progressBar.tsx';
import { pageOrRefusal } from '../errorPage.tsx';
import { numberOrAsSent, readForm, type Form } from '../forms.ts';
import { CsrfField, Layout } from '../layout.tsx';
import { line, pollWhile, redirect } from './nodes/shared.tsx';
import { may } from './triggers/shared.tsx';

export interface FractalPagesDependencies {
  service: FractalService;
  links: WorkflowLinks;
  temporalWebUiUrl: string;
}

export const fractalPath = (uuid: string) => `/fractals/${uuid}`;

/** `?page=n`, from 1; anything else is the first page. */
const pageSchema = z.pipe(z.coerce.number(), wholeNumber(1, 1_000_000));
const pageOf = (c: Context) => {
  const parsed = z.safeParse(pageSchema, c.req.query('page') ?? '1');
  return parsed.success ? parsed.data : 1;
};

// ---------------------------------------------------------------------------------------------
// The form's fields, as data: one fractal's, and a batch's ranges. One reader turns either into the
// schema's input (numbers when they are one, else as typed for the schema to name; empty optional
// fields left out).

interface NumberField {
  name: string;
  label: string;
  /** What the form shows first. */
  initial?: number;
  optional?: boolean;
}

/** One fractal: a 512×512 view of -1.5..1.5 × -1..1, 256 iterations; the constant is chosen from the uuid unless given. */
export const fractalFields: NumberField[] = [
  { name: 'width', label: 'Width (px)', initial: 512 },
  { name: 'height', label: 'Height (px)', initial: 512 },
  { name: 'iterations', label: 'Iterations', initial: 256 },
  { name: 'xa', label: 'xa (left)', initial: -1.5 },
  { name: 'xb', label: 'xb (right)', initial: 1.5 },
  { name: 'ya', label: 'ya (bottom)', initial: -1 },
  { name: 'yb', label: 'yb (top)', initial: 1 },
  { name: 'cx', label: 'cx (constant, real)', optional: true },
  { name: 'cy', label: 'cy (constant, imaginary)', optional: true },
];

/** A batch's ranges, each drawn per fractal between min and max (the original CLI's defaults). */
export const batchRanges = Object.keys(fractalBatchDefaults) as (keyof typeof fractalBatchDefaults)[];
export const batchFields: NumberField[] = [
  { name: 'tasks', label: 'Fractals', initial: 10 },
  ...batchRanges.flatMap((name) => [
    { name: `${name}.min`, label: `${name} min`, initial: fractalBatchDefaults[name].min, optional: true },
    { name: `${name}.max`, label: `${name} max`, initial: fractalBatchDefaults[name].max, optional: true },
  ]),
  { name: 'cx', label: 'cx (one constant for all)', optional: true },
  { name: 'cy', label: 'cy (one constant for all)', optional: true },
];

const numberField = (form: Form, name: string, optional = false): unknown => {
  const value = line(form, name);
  return value === '' && optional ? undefined : numberOrAsSent(value);
};

/** One fractal's form as fractalCreateSchema's input. */
export function fractalBody(form: Form): Record<string, unknown> {
  return Object.fromEntries(fractalFields.map((field) => [field.name, numberField(form, field.name, field.optional)]).filter(([, value]) => value !== undefined));
}

/** A batch's form as fractalBatchSpecSchema's input: a range left empty takes the CLI's default, a bound left empty the default's bound. */
export function batchBody(form: Form): Record<string, unknown> {
  const body: Record<string, unknown> = { tasks: numberField(form, 'tasks') };
  for (const name of batchRanges) {
    const [min, max] = [numberField(form, `${name}.min`, true), numberField(form, `${name}.max`, true)];
    if (min !== undefined || max !== undefined) body[name] = { min: min ?? fractalBatchDefaults[name].min, max: max ?? fractalBatchDefaults[name].max };
  }
  for (const name of ['cx', 'cy']) {
    const value = numberField(form, name, true);
    if (value !== undefined) body[name] = value;
  }
  return body;
}

const initialValues = (fields: NumberField[]): Form => Object.fromEntries(fields.map((field) => [field.name, field.initial === undefined ? '' : String(field.initial)]));

function NumberInputs({ prefix, fields, values, invalidField }: { prefix: string; fields: NumberField[]; values: Form; invalidField?: string }) {
  // A range's problem is named at the range (`width`), its bounds' at the bound (`width.min`).
  const invalid = (name: string) => invalidField !== undefined && (invalidField === name || invalidField === name.split('.')[0]);
  return (
    <>
      {fields.map((field) => (
        <>
          <label for={`${prefix}-${field.name}`}>{field.label}</label>
          <input
            id={`${prefix}-${field.name}`}
            name={field.name}
            type="text"
            inputmode="decimal"
            value={typeof values[field.name] === 'string' ? (values[field.name] as string) : ''}
            placeholder={field.optional ? 'optional' : undefined}
            autocomplete="off"
            {...(invalid(field.name) ? { 'aria-invalid': 'true' } : {})}
          />
        </>
      ))}
    </>
  );
}

interface FormState {
  values: Form;
  error?: ServiceError;
}

export function NewFractalPage({ one = { values: initialValues(fractalFields) }, batch = { values: initialValues(batchFields) } }: { one?: FormState; batch?: FormState }) {
  const fieldOf = (error?: ServiceError) => (typeof error?.details.field === 'string' ? error.details.field : undefined);
  return (
    <section>
      <h1>New fractals</h1>
      <div class="fractal-forms">
        <div>
          <h2>One fractal</h2>
          <p class="muted">A Julia set over the view xa..xb × ya..yb. Without cx and cy the constant is chosen from its uuid.</p>
          <form id="fractal-form" class="stacked" method="post" action="/ui/fractals">
            <CsrfField />
            <NumberInputs prefix="fractal" fields={fractalFields} values={one.values} invalidField={fieldOf(one.error)} />
            <FormActions submit="Render it" error={one.error?.message} />
          </form>
        </div>
        <div>
          <h2>A batch</h2>
          <p class="muted">As <code>faafo create --tasks N</code>: each fractal's parameters are drawn between min and max (the original CLI's ranges unless changed).</p>
          <form id="fractal-batch-form" class="stacked" method="post" action="/ui/fractal-batches">
            <CsrfField />
            <NumberInputs prefix="batch" fields={batchFields} values={batch.values} invalidField={fieldOf(batch.error)} />
            <FormActions submit="Start the batch" error={batch.error?.message} />
          </form>
        </div>
      </div>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// The gallery.

const BATCH_POLL = '1s';

/** The batches' progress bars, polling while one is unfinished; `shown` are the ones the page showed, so a batch that finished shows done once. */
export function FractalBatches({ batches }: { batches: BatchProgress[] }) {
  const live = batches.some((batch) => batch.done < batch.tasks);
  const query = new URLSearchParams(batches.map((batch) => ['batch', batch.batch_id]));
  query.set('done', String(batches.reduce((sum, batch) => sum + batch.done, 0)));
  return (
    <div id="fractal-batches" aria-live="polite" {...pollWhile(live, `/ui/partials/fractal-batches?${query}`, BATCH_POLL)}>
      {batches.map((batch) => (
        <div class="fractal-batch" data-batch={batch.batch_id}>
          <span class="muted">
            Batch <code>{batch.batch_id.slice(0, 8)}</code> · started <Time iso={batch.created_at} />
          </span>
          <ProgressBar name="fractal-batch" total={batch.tasks} done={batch.done} tone={batch.done >= batch.tasks ? 'counted' : undefined} title={`${batch.accepted} of ${batch.tasks} accepted`}>
            {batch.done >= batch.tasks ? `done: ${batch.done}/${batch.tasks}` : `${batch.done}/${batch.tasks} rendered, ${batch.accepted} accepted`}
          </ProgressBar>
        </div>
      ))}
    </div>
  );
}

const statusOrder: FractalRecord['status'][] = ['queued', 'done'];

function Thumbnail({ fractal }: { fractal: FractalView | FractalRecord }) {
  return (
    <a class="fractal-thumb" href={fractalPath(fractal.uuid)} data-uuid={fractal.uuid}>
      <img src={fractalImagePath(fractal.uuid)} alt={`Fractal ${fractal.uuid}`} width={fractal.width} height={fractal.height} loading="lazy" />
      <span class="muted">
        {fractal.width}×{fractal.height} · <Time iso={fractal.created_at} />
      </span>
    </a>
  );
}

function Pagination({ page, totalPages }: { page: number; totalPages: number }) {
  if (totalPages <= 1) return null;
  return (
    <nav class="pagination" aria-label="Gallery pages">
      {page > 1 ? <a href={`/fractals?page=${page - 1}`} rel="prev">← Newer</a> : null}
      {Array.from({ length: totalPages }, (_, i) => i + 1)
        .filter((n) => n === 1 || n === totalPages || Math.abs(n - page) <= 2)
        .map((n) => (n === page ? <strong aria-current="page">{n}</strong> : <a href={`/fractals?page=${n}`}>{n}</a>))}
      {page < totalPages ? <a href={`/fractals?page=${page + 1}`} rel="next">Older →</a> : null}
    </nav>
  );
}

/** The rendered fractals of one page; it reloads itself when the batches' bars say fractals landed. */
export function FractalGallery({ gallery }: { gallery: Gallery }) {
  return (
    <div id="fractal-gallery" hx-get={`/fractals?page=${gallery.page}`} hx-select="#fractal-gallery" hx-trigger="fractals-landed from:body" hx-swap="outerHTML">
      <p class="fractal-counts">
        {gallery.num_results} rendered
        {statusOrder.map((status) => (
          <span data-status={status}>
            {' · '}
            {gallery.counts[status] ?? 0} {status}
          </span>
        ))}
      </p>
      {gallery.objects.length === 0 ? (
        <p class="muted">No fractal rendered yet{may('operator') ? <>: <a href="/fractals/new">make some</a></> : null}.</p>
      ) : (
        <div class="fractal-gallery">
          {gallery.objects.map((fractal) => (
            <Thumbnail fractal={fractal} />
          ))}
        </div>
      )}
      <Pagination page={gallery.page} totalPages={gallery.total_pages} />
    </div>
  );
}

export function GalleryPage({ gallery, notice }: { gallery: Gallery; notice?: Child }) {
  return (
    <section>
      <div class="section-head">
        <h1>Fractals</h1>
        {may('operator') ? (
          <a class="button" href="/fractals/new">
            New fractals
          </a>
        ) : null}
      </div>
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <FractalBatches batches={gallery.batches} />
      <FractalGallery gallery={gallery} />
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// A fractal's page.

const parameterNames = ['width', 'height', 'iterations', 'xa', 'xb', 'ya', 'yb', 'cx', 'cy'] as const;

/** The record, its image once rendered; while queued it reloads itself every second. */
export function FractalPanel({ fractal, workflowUrl }: { fractal: FractalView; workflowUrl: string }) {
  const queued = fractal.status !== 'done';
  return (
    <div id="fractal" data-status={fractal.status} {...pollWhile(queued, `/ui/partials/fractals/${fractal.uuid}`)}>
      <div class="fractal-detail">
        <figure class="fractal-image">
          {queued ? (
            <p class="rendering" aria-busy="true">
              Rendering…
            </p>
          ) : (
            <img src={fractalImagePath(fractal.uuid)} alt={`Fractal ${fractal.uuid}`} width={fractal.width} height={fractal.height} />
          )}
        </figure>
        <div>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={fractal.status} label={queued ? 'rendering' : 'done'} />
            </dd>
            <dt>Checksum</dt>
            <dd>{fractal.checksum ? <code class="checksum">{fractal.checksum}</code> : <span class="muted">–</span>}</dd>
            <dt>Size</dt>
            <dd>{fractal.size === null ? <span class="muted">–</span> : `${fractal.size.toLocaleString('en')} bytes`}</dd>
            <dt>Duration</dt>
            <dd>
              <Duration ms={fractal.duration === null ? null : fractal.duration * 1000} />
            </dd>
            <dt>Rendered by</dt>
            <dd>{fractal.generated_by ?? <span class="muted">–</span>}</dd>
            <dt>Batch</dt>
            <dd>{fractal.batch_id ? <code>{fractal.batch_id}</code> : <span class="muted">–</span>}</dd>
            <dt>Created</dt>
            <dd>
              <Time iso={fractal.created_at} />
            </dd>
            <dt>Workflow</dt>
            <dd>
              <a href={workflowUrl} target="_blank" rel="noopener">
                {fractal.workflow_id} ↗
              </a>
            </dd>
          </dl>
          <table class="fractal-parameters">
            <thead>
              <tr>
                {parameterNames.map((name) => (
                  <th>{name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              <tr>
                {parameterNames.map((name) => (
                  <td data-parameter={name}>{String(fractal[name])}</td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
      </div>
    </div>
  );
}

export function FractalPage({ fractal, workflowUrl }: { fractal: FractalView; workflowUrl: string }) {
  return (
    <section>
      <div class="section-head">
        <h1>
          Fractal <code>{fractal.uuid}</code>
        </h1>
        {may('operator') ? (
          <button type="button" class="danger" hx-post={`/ui/fractals/${fractal.uuid}/delete`} hx-confirm={`Delete fractal ${fractal.uuid}? Its record and image go.`} hx-target="#fractal-delete-result">
            Delete
          </button>
        ) : null}
      </div>
      <p id="fractal-delete-result" class="notice" aria-live="polite"></p>
      <FractalPanel fractal={fractal} workflowUrl={workflowUrl} />
      <a href="/fractals">All fractals</a>
    </section>
  );
}

// ---------------------------------------------------------------------------------------------
// Routes.

export function fractalPages(deps: FractalPagesDependencies) {
  const { service } = deps;
  const page = (title: string, body: Child) => (
    <Layout title={title} active="/fractals" temporalWebUiUrl={deps.temporalWebUiUrl}>
      {body}
    </Layout>
  );
  const pageOr404 = (c: Context, render: () => Promise<Response>) =>
    pageOrRefusal(c, render, deps.temporalWebUiUrl, { active: '/fractals', back: { href: '/fractals', label: 'All fractals' } });
  // The fractal's workflow in the Web UI's list (its latest run, without asking Temporal for the run ID).
  const workflowUrl = (uuid: string) => `${deps.links.list()}?query=${encodeURIComponent(`WorkflowId="${fractalWorkflowId(uuid)}"`)}`;
  const uuidOf = (c: Context) => parseInput(fractalUuidSchema, c.req.param('uuid'), 'uuid');
  /** The unfinished batches and those named (a finished one too; one that is not a batch is left out), newest first. */
  const withBatches = async (unfinished: BatchProgress[], named: string[]) => {
    const others = await Promise.all(
      named
        .filter((id) => !unfinished.some((batch) => batch.batch_id === id) && z.safeParse(fractalUuidSchema, id).success)
        .map((id) => service.batch(id).catch((error: unknown) => (error instanceof ServiceError && error.status === 404 ? undefined : Promise.reject(error)))),
    );
    return [...unfinished, ...others.filter((batch) => batch !== undefined)].sort((a, b) => b.created_at.localeCompare(a.created_at));
  };
  /** A refused form: the page again with what was typed and the problem beside its field. */
  const refused = (c: Context, error: unknown, props: { one?: FormState; batch?: FormState }) => {
    if (!(error instanceof ServiceError)) throw error;
    return c.html(page('New fractals', <NewFractalPage {...props} />), error.status);
  };

  return new Hono()
    .get('/fractals', access('viewer'), async (c) => {
      const deleted = c.req.query('deleted');
      const started = c.req.query('batch');
      const gallery = await service.gallery(pageOf(c));
      // The batch just started shows its bar even when it finished before this page loaded.
      gallery.batches = await withBatches(gallery.batches, started ? [started] : []);
      const notice = deleted ? (
        <>
          Deleted fractal <code>{deleted}</code>.
        </>
      ) : started && gallery.batches.some((batch) => batch.batch_id === started) ? (
        <>
          Started batch <code>{started}</code>.
        </>
      ) : undefined;
      return c.html(page('Fractals', <GalleryPage gallery={gallery} notice={notice} />));
    })
    .get('/ui/partials/fractal-batches', access('viewer'), async (c) => {
      // Batches the page showed that have finished since: shown done once, then polling stops.
      const shown = c.req.queries('batch') ?? [];
      const all = await withBatches((await service.gallery(1)).batches, shown);
      // The gallery reloads itself when fractals landed since the last answer.
      const done = all.filter((batch) => shown.includes(batch.batch_id)).reduce((sum, batch) => sum + batch.done, 0);
      if (String(done) !== (c.req.query('done') ?? '0') || all.length !== shown.length) c.header('HX-Trigger', 'fractals-landed');
      return c.html(<FractalBatches batches={all} />);
    })
    .get('/fractals/new', access('operator'), (c) => c.html(page('New fractals', <NewFractalPage />)))
    .post('/ui/fractals', access('operator'), async (c) => {
      const form = await readForm(c);
      try {
        const fractal = await service.create(parseInput(fractalCreateSchema, fractalBody(form)));
        return c.redirect(fractalPath(fractal.uuid), 303);
      } catch (error) {
        return refused(c, error, { one: { values: form, error: error as ServiceError } });
      }
    })
    .post('/ui/fractal-batches', access('operator'), async (c) => {
      const form = await readForm(c);
      try {
        const started = await service.createBatch(parseInput(fractalBatchSpecSchema, batchBody(form)));
        return c.redirect(`/fractals?batch=${started.batch_id}`, 303);
      } catch (error) {
        return refused(c, error, { batch: { values: form, error: error as ServiceError } });
      }
    })
    .get('/fractals/:uuid', access('viewer'), (c) =>
      pageOr404(c, async () => {
        const fractal = await service.read(uuidOf(c));
        return c.html(page(`Fractal ${fractal.uuid}`, <FractalPage fractal={fractal} workflowUrl={workflowUrl(fractal.uuid)} />));
      }),
    )
    .get('/ui/partials/fractals/:uuid', access('viewer'), async (c) => {
      const uuid = uuidOf(c);
      try {
        const fractal = await service.read(uuid);
        return c.html(<FractalPanel fractal={fractal} workflowUrl={workflowUrl(fractal.uuid)} />);
      } catch (error) {
        if (!(error instanceof ServiceError && error.status === 404)) throw error;
        // Deleted while the page polled: say so and stop (htmx would keep polling past a 404).
        return c.html(
          <div id="fractal" data-status="deleted">
            <p class="notice">Fractal {uuid} has been deleted.</p>
          </div>,
        );
      }
    })
    .post('/ui/fractals/:uuid/delete', access('operator'), async (c) => {
      const uuid = uuidOf(c);
      await service.delete(uuid);
      return redirect(c, `/fractals?deleted=${uuid}`, `Deleted fractal ${uuid}.`);
    });
}

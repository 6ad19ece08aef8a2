// What the nodes pages share: their dependencies and page frame, the paths of their pages, how a form
// post is read for a schema, the form's action row, and how a refusal or a start is answered to htmx.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ServiceError } from '../../../services/errors.ts';
import type { NodesService } from '../../../services/nodes.ts';
import { FleetModelError } from '../../../db/nodes.ts';
import type { NodeTimings } from '../../../workflows/nodes.shared.ts';
import { numberOrAsSent, type Form } from '../../forms.ts';
import { Layout } from '../../layout.tsx';
import { pageOrRefusal } from '../../errorPage.tsx';

export type { Form };

export interface NodesPagesDependencies {
  service: NodesService;
  temporalWebUiUrl: string;
  /** Waits of deployments and removals started here (default: the production timings; tests pass milliseconds). */
  deployTimings?: Partial<NodeTimings>;
}

export const clusterPath = (name: string) => `/nodes/clusters/${encodeURIComponent(name)}`;
export const runbookPath = (workflowId: string) => `/nodes/runbooks/${encodeURIComponent(workflowId)}`;
export const scriptRunPath = (workflowId: string) => `/nodes/script-runs/${encodeURIComponent(workflowId)}`;

// ---------------------------------------------------------------------------------------------
// Form fields arrive as strings: numbers that are not numbers stay strings so the schema names them,
// and browsers send textarea line breaks as CRLF, which a shell script must not see.

export const text = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string).replace(/\r\n?/g, '\n') : '');

/** A one-line field, trimmed; empty optional ones are null, as the JSON API stores them. */
export const line = (form: Form, name: string) => text(form, name).trim();
export const optionalLine = (form: Form, name: string) => line(form, name) || null;
export const optionalText = (form: Form, name: string) => (line(form, name) === '' ? null : text(form, name));

/** A comma-separated field as its list, without empty entries. */
export const list = (form: Form, name: string) =>
  line(form, name)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A number field; empty is undefined, so the schema's default applies. */
export function number(form: Form, name: string): unknown {
  const value = line(form, name);
  return value === '' ? undefined : numberOrAsSent(value);
}

/** A stored record as its form shows it: numbers as text, lists comma-separated, nulls empty. */
export function asFormValues(record: object): Form {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [key, Array.isArray(value) ? value.join(', ') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '')]),
  );
}

export { FormActions } from '../../components/formActions.tsx';

/** `oob`: sent beside another answer (a saved edit), in place of the one on the page. */
export const outOfBand = (oob: boolean | undefined) => (oob ? { 'hx-swap-oob': 'true' } : {});

/** While a fragment's subject changes, it reloads itself (outerHTML) from `url`. */
export const pollWhile = (live: boolean, url: string, every = '1s') => (live ? { 'hx-get': url, 'hx-trigger': `every ${every}`, 'hx-swap': 'outerHTML' } : {});

// ---------------------------------------------------------------------------------------------
// Answers.

/** htmx follows HX-Redirect, a plain form post a 303; the note shows until the browser has left. */
export function redirect(c: Context, url: string, note: Child) {
  if (!c.req.header('HX-Request')) return c.redirect(url, 303);
  c.header('HX-Redirect', url);
  return c.html(<span>{note}</span>);
}

/** After a start: on to what was started. */
export function goTo(c: Context, url: string, what: string) {
  return redirect(
    c,
    url,
    <>
      Started <a href={url}>{what}</a>…
    </>,
  );
}

/** htmx swaps only 2xx answers, so refusals (the API's or the model's) are reported in 200 fragments. */
export function refusal(c: Context, error: unknown) {
  if (error instanceof ServiceError || error instanceof FleetModelError) return c.html(<span class="error-text" role="alert">{error.message}</span>);
  throw error;
}

/** The frame of every nodes page, and its answers when the subject does not exist. */
export function nodesFrame(deps: NodesPagesDependencies) {
  const page = (title: string, body: Child) => (
    <Layout title={title} active="/nodes" temporalWebUiUrl={deps.temporalWebUiUrl}>
      {body}
    </Layout>
  );

  /** A page whose subject does not exist (or a request it refuses) as HTML, not the API's JSON. */
  const pageOr404 = (c: Context, render: () => Promise<Response>) =>
    pageOrRefusal(c, render, deps.temporalWebUiUrl, {
      active: '/nodes',
      back: { href: '/nodes', label: 'All clusters' },
      asServiceError: (error) => (error instanceof WorkflowNotFoundError ? new ServiceError(404, 'not_found', `No workflow with ID ${error.workflowId}.`) : error),
    });

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

  return { page, pageOr404, fragmentOrError };
}

export type NodesFrame = ReturnType<typeof nodesFrame>;

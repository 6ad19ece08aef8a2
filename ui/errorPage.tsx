// A refusal answered to a browser's page load (a viewer opening an admin page, an unknown path) as a
// page in the app's frame, not the API's JSON.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ServiceError } from '../services/errors.ts';
import { Layout } from './layout.tsx';

const titles: Partial<Record<number, string>> = { 403: 'Not allowed', 404: 'Not found' };

/** A GET the browser navigated to itself: it wants a page (htmx and fetch calls get JSON). */
export function wantsPage(c: Context): boolean {
  return c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html') && !c.req.header('hx-request');
}

/** Where an error page sits: its section of the navigation, and the link back. */
export interface ErrorPageFrame {
  active?: string;
  back?: { href: string; label: string };
}

export function errorPage(c: Context, status: ContentfulStatusCode, message: string, temporalWebUiUrl: string, frame: ErrorPageFrame = {}): Response | Promise<Response> {
  const title = titles[status] ?? 'Something went wrong';
  const back = frame.back ?? { href: '/', label: 'Home' };
  return c.html(
    <Layout title={title} active={frame.active ?? ''} temporalWebUiUrl={temporalWebUiUrl}>
      <section>
        <h1>{title}</h1>
        <p class="error-text" role="alert">
          {message}
        </p>
        <a href={back.href}>{back.label}</a>
      </section>
    </Layout>,
    status,
  );
}

/** A page whose subject does not exist (or that its service refuses) answered as a page in its section, not the API's JSON. */
export async function pageOrRefusal(c: Context, render: () => Promise<Response>, temporalWebUiUrl: string, frame: ErrorPageFrame & { asServiceError?: (error: unknown) => unknown }): Promise<Response> {
  try {
    return await render();
  } catch (raised) {
    const error = frame.asServiceError?.(raised) ?? raised;
    if (!(error instanceof ServiceError)) throw raised;
    return errorPage(c, error.status, error.message, temporalWebUiUrl, frame);
  }
}

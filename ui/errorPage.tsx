// A refusal answered to a browser's page load (a viewer opening an admin page, an unknown path) as a
// page in the app's frame, not the API's JSON.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { Layout } from './layout.tsx';

const titles: Partial<Record<number, string>> = { 403: 'Not allowed', 404: 'Not found' };

/** A GET the browser navigated to itself: it wants a page (htmx and fetch calls get JSON). */
export function wantsPage(c: Context): boolean {
  return c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html') && !c.req.header('hx-request');
}

export function errorPage(c: Context, status: ContentfulStatusCode, message: string, temporalWebUiUrl: string): Response | Promise<Response> {
  const title = titles[status] ?? 'Something went wrong';
  return c.html(
    <Layout title={title} active="" temporalWebUiUrl={temporalWebUiUrl}>
      <section>
        <h1>{title}</h1>
        <p class="error-text" role="alert">
          {message}
        </p>
        <a href="/">Home</a>
      </section>
    </Layout>,
    status,
  );
}

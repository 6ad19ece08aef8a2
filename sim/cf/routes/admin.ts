// The simulator's own controls, outside the CC API: knobs, reset, the request log and counters.
import { Hono } from 'hono';
import type { SimEnv, SimRuntime } from '../context.ts';
import { knobsPatchSchema } from '../options.ts';

const adminError = (message: string, field?: string) => ({ error: { code: 'validation_failed', message, ...(field ? { field } : {}) } });

export function adminRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .get('/config', (c) => c.json(runtime.describe()))
    .put('/config', async (c) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        return c.json({ error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } }, 400);
      }
      const parsed = knobsPatchSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.map(String).join('.');
        return c.json(adminError(field ? `${field}: ${issue.message}` : issue.message, field || undefined), 400);
      }
      runtime.configure(parsed.data);
      return c.json(runtime.describe());
    })
    .post('/reset', (c) => {
      runtime.reset();
      return c.body(null, 204);
    })
    .get('/requests', (c) => {
      const since = c.req.query('since');
      if (since && !/^\d+$/.test(since) && Number.isNaN(Date.parse(since))) {
        return c.json(adminError('since: a sequence number or an ISO 8601 time', 'since'), 400);
      }
      return c.json(runtime.traffic.requests(since));
    })
    .get('/counters', (c) => c.json(runtime.traffic.counters()));
}

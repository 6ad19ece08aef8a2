// The simulator's own controls, outside the CC API: knobs, reset, the request log and counters, and
// the usage an app's instances report in process stats.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { SimEnv, SimRuntime } from '../context.ts';
import { knobsPatchSchema } from '../options.ts';

const adminError = (message: string, field?: string) => ({ error: { code: 'validation_failed', message, ...(field ? { field } : {}) } });

/** What every running instance of the app reports: CPU in percent of one core, memory in bytes. */
const usageSchema = z.strictObject({
  cpu: z.number().min(0).max(100 * 1024),
  memory: z.number().int().min(0).max(2 ** 50),
});

/** The body parsed by `schema`, or the 400 answer naming the first bad field. */
async function parseBody<T>(c: Context<SimEnv>, schema: z.ZodType<T>): Promise<{ data: T } | { response: Response }> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return { response: c.json({ error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } }, 400) };
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return { data: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  return { response: c.json(adminError(field ? `${field}: ${issue.message}` : issue.message, field || undefined), 400) };
}

export function adminRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .get('/config', (c) => c.json(runtime.describe()))
    .put('/config', async (c) => {
      const parsed = await parseBody(c, knobsPatchSchema);
      if ('response' in parsed) return parsed.response;
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
    .get('/counters', (c) => c.json(runtime.traffic.counters()))
    .put('/apps/:guid/usage', async (c) => {
      const app = runtime.state.apps.get(c.req.param('guid'));
      if (!app) return c.json({ error: { code: 'not_found', message: `The simulator has no app ${c.req.param('guid')}.` } }, 404);
      const parsed = await parseBody(c, usageSchema);
      if ('response' in parsed) return parsed.response;
      app.usage = { cpuPercent: parsed.data.cpu, memoryBytes: parsed.data.memory };
      return c.json(parsed.data);
    });
}

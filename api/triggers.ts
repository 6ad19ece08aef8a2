// HTTP routes of counter and trigger definitions. Writing a counter or a trigger is an admin's (an ssh
// counter is a script run on every node, a chain deploys, removes and runs scripts); switching a
// trigger on or off is an operator's.
import { Hono, type Context } from 'hono';
import * as z from 'zod/mini';
import type { TriggersService } from '../services/triggers.ts';
import type { TriggerRunsService } from '../services/triggerRuns.ts';
import { clusterNameSchema } from '../workflows/nodes.shared.ts';
import { counterNameSchema, counterSchema, triggerNameSchema, triggerSchema } from '../workflows/triggers.shared.ts';
import { readJson, readParam, readQuery } from './validation.ts';
import { wholeNumber } from '../workflows/validation.shared.ts';
import { access } from '../server/access.ts';

const triggersQuery = z.object({ cluster: z.optional(clusterNameSchema) });
const samplesQuery = z.object({ hours: z._default(z.pipe(z.coerce.number(), wholeNumber(1, 168)), 1) });
/** A counter tried before it is saved: on a cluster's active nodes (or the named ones); the body may carry an unsaved definition. */
const counterTestSchema = z.strictObject({
  cluster: clusterNameSchema,
  nodes: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(48))).check(z.minLength(1), z.maxLength(99))),
  counter: z.optional(counterSchema),
});
const counterName = (c: Context) => readParam(c, 'name', counterNameSchema);
const triggerName = (c: Context) => readParam(c, 'name', triggerNameSchema);

export function triggersRoutes(service: TriggersService) {
  return new Hono()
    .get('/counters', access('viewer'), async (c) => c.json({ counters: await service.listCounters() }))
    .get('/counters/:name', access('viewer'), async (c) => c.json({ counter: await service.getCounter(counterName(c)) }))
    .put('/counters/:name', access('admin'), async (c) => {
      const name = counterName(c);
      const { counter, created } = await service.putCounter(name, await readJson(c, counterSchema));
      return c.json({ counter }, created ? 201 : 200);
    })
    .delete('/counters/:name', access('admin'), async (c) => {
      await service.deleteCounter(counterName(c));
      return c.body(null, 204);
    })
    .get('/triggers', access('viewer'), async (c) => c.json({ triggers: await service.listTriggers(readQuery(c, triggersQuery).cluster) }))
    .get('/triggers/:name', access('viewer'), async (c) => c.json({ trigger: await service.getTrigger(triggerName(c)) }))
    .put('/triggers/:name', access('admin'), async (c) => {
      const name = triggerName(c);
      const { trigger, created } = await service.putTrigger(name, await readJson(c, triggerSchema));
      return c.json({ trigger }, created ? 201 : 200);
    })
    .delete('/triggers/:name', access('admin'), async (c) => {
      await service.deleteTrigger(triggerName(c));
      return c.body(null, 204);
    })
    .post('/triggers/:name/:action{enable|disable}', access('operator'), async (c) => c.json({ trigger: await service.setTriggerEnabled(triggerName(c), c.req.param('action') === 'enable') }));
}

/** Triggers at work: state, firings, samples, a chain run by hand, dry runs, a cluster's sampling paused. */
export function triggerRunsRoutes(service: TriggerRunsService, definitions: TriggersService) {
  return new Hono()
    .get('/trigger-states', access('viewer'), async (c) => c.json({ triggers: await service.overview(readQuery(c, triggersQuery).cluster) }))
    .get('/triggers/:name/status', access('viewer'), async (c) => c.json(await service.status(triggerName(c))))
    .get('/triggers/:name/samples', access('viewer'), async (c) => c.json(await service.samples(triggerName(c), readQuery(c, samplesQuery).hours)))
    // Runs the chain's actions (deployments, scripts on nodes): an operator's, like starting them one by one.
    .post('/triggers/:name/run', access('operator'), async (c) => c.json(await service.runNow(triggerName(c)), 202))
    .post('/triggers/:name/preview', access('operator'), async (c) => c.json(await service.preview(triggerName(c))))
    // An unsaved counter is a script of the caller's on every node: an admin's, as saving it is.
    .post('/counters/:name/test', access('admin'), async (c) => {
      const name = counterName(c);
      const request = await readJson(c, counterTestSchema);
      const { name: _name, createdAt: _created, updatedAt: _updated, ...saved } = request.counter ? { name, createdAt: '', updatedAt: '', ...request.counter } : await definitions.getCounter(name);
      return c.json({ samples: await service.testCounter(name, { cluster: request.cluster, counter: definitions.checkedCounter(saved), nodes: request.nodes }) });
    })
    .get('/clusters/:name/sampling', access('viewer'), async (c) => c.json({ schedule: await service.sampling(readParam(c, 'name', clusterNameSchema)) }))
    .post('/clusters/:name/sampling/:action{pause|resume}', access('operator'), async (c) => {
      const cluster = readParam(c, 'name', clusterNameSchema);
      await service.setSamplingPaused(cluster, c.req.param('action') === 'pause', c.get('principal').actor);
      return c.json({ schedule: await service.sampling(cluster) });
    });
}

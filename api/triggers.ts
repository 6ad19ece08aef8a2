// HTTP routes of counter and trigger definitions. Writing a counter or a trigger is an admin's (an ssh
// counter is a script run on every node, a chain deploys, removes and runs scripts); switching a
// trigger on or off is an operator's.
import { Hono, type Context } from 'hono';
import * as z from 'zod/mini';
import type { TriggersService } from '../services/triggers.ts';
import { clusterNameSchema } from '../workflows/nodes.shared.ts';
import { counterNameSchema, counterSchema, triggerNameSchema, triggerSchema } from '../workflows/triggers.shared.ts';
import { readJson, readParam, readQuery } from './validation.ts';
import { access } from '../server/access.ts';

const triggersQuery = z.object({ cluster: z.optional(clusterNameSchema) });
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

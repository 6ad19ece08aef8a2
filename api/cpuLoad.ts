// HTTP routes of the CPU-load toggles: read a target's state, switch it ON or OFF.
import { Hono, type Context } from 'hono';
import type { CpuLoadService } from '../services/cpuLoad.ts';
import { cpuLoadTargetSchema } from '../workflows/cpuLoad.shared.ts';
import { readJson, readParam } from './validation.ts';
import { access } from '../server/access.ts';

export function cpuLoadRoutes(service: CpuLoadService) {
  const switchTarget = async (c: Context) => {
    const target = readParam(c, 'target', cpuLoadTargetSchema);
    return c.json(await service.switch(target, await readJson(c, service.switchBodySchema)));
  };
  return new Hono()
    .get('/:target', access('viewer'), async (c) => c.json(await service.read(readParam(c, 'target', cpuLoadTargetSchema))))
    .put('/:target', access('operator'), switchTarget)
    .post('/:target', access('operator'), switchTarget);
}

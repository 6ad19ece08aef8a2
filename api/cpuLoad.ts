// HTTP routes of the CPU-load toggles: read a target's state, switch it ON or OFF.
import { Hono, type Context } from 'hono';
import { cpuLoadSwitchSchema, parseCpuLoadTarget, type CpuLoadService } from '../services/cpuLoad.ts';
import { readJson } from './errors.ts';

export function cpuLoadRoutes(service: CpuLoadService) {
  const switchTarget = async (c: Context) => {
    const target = parseCpuLoadTarget(c.req.param('target'));
    return c.json(await service.switch(target, await readJson(c, cpuLoadSwitchSchema)));
  };
  return new Hono()
    .get('/:target', async (c) => c.json(await service.read(parseCpuLoadTarget(c.req.param('target')))))
    .put('/:target', switchTarget)
    .post('/:target', switchTarget);
}

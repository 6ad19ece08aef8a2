// Processes: show, scale (202, as CC) and stats, by app and type or by process guid. Instances of a
// started app are STARTING until the instance start delay has passed, then RUNNING.
import { Hono, type Context } from 'hono';
import { optionalWholeNumber, readBody } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentProcess, presentProcessStats } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Process } from '../state.ts';
import { mustFind, touch } from './shared.ts';

export function processRoutes(runtime: SimRuntime) {
  const byAppAndType = (c: Context<SimEnv>): Process => {
    const app = mustFind(runtime.state.apps, c.req.param('guid')!, 'App');
    const type = c.req.param('type');
    for (const process of runtime.state.processes.values()) if (process.appGuid === app.guid && process.type === type) return process;
    throw cfErrors.notFound('Process');
  };
  const byGuid = (c: Context<SimEnv>): Process => mustFind(runtime.state.processes, c.req.param('guid')!, 'Process');

  const present = (c: Context<SimEnv>, process: Process) =>
    presentProcess(process, runtime.state.spaceOfApp(process.appGuid)?.guid ?? '', c.var.baseUrl);

  const stats = (c: Context<SimEnv>, process: Process) => {
    const app = runtime.state.apps.get(process.appGuid);
    return c.json(presentProcessStats(process, app?.state === 'STARTED', runtime.now(), app?.usage));
  };

  const scale = async (c: Context<SimEnv>, process: Process) => {
    const body = await readBody(c, ['instances', 'memory_in_mb', 'disk_in_mb', 'log_rate_limit_in_bytes_per_second']);
    const instances = optionalWholeNumber(body, 'instances', 'Instances', 0);
    const memory = optionalWholeNumber(body, 'memory_in_mb', 'Memory in mb', 1);
    const disk = optionalWholeNumber(body, 'disk_in_mb', 'Disk in mb', 1);
    const logRate = optionalWholeNumber(body, 'log_rate_limit_in_bytes_per_second', 'Log rate limit in bytes per second', -1);
    const running = runtime.state.apps.get(process.appGuid)?.state === 'STARTED';
    const startAt = runtime.now() + runtime.knobs.instanceStartDelayMs;
    // New resources mean new containers: every instance restarts, as CC's scale with memory or disk does.
    const restartAll = running && ((memory !== undefined && memory !== process.memoryInMb) || (disk !== undefined && disk !== process.diskInMb));
    if (instances !== undefined) process.instances = instances;
    if (memory !== undefined) process.memoryInMb = memory;
    if (disk !== undefined) process.diskInMb = disk;
    if (logRate !== undefined) process.logRateLimitInBytesPerSecond = logRate;
    if (restartAll) process.runningAt = Array.from({ length: process.instances }, () => startAt);
    else if (running) {
      process.runningAt = process.runningAt.slice(0, process.instances);
      while (process.runningAt.length < process.instances) process.runningAt.push(startAt);
    }
    touch(process, runtime);
    return c.json(present(c, process), 202);
  };

  return new Hono<SimEnv>()
    .get('/apps/:guid/processes', (c) => {
      const app = mustFind(runtime.state.apps, c.req.param('guid'), 'App');
      const processes = [...runtime.state.processes.values()].filter((p) => p.appGuid === app.guid);
      return listResponse(
        c,
        processes,
        { filters: { types: (p, types) => types.includes(p.type), guids: (p, guids) => guidIn(guids, p.guid) } },
        (p) => present(c, p),
      );
    })
    .get('/apps/:guid/processes/:type', (c) => c.json(present(c, byAppAndType(c))))
    .post('/apps/:guid/processes/:type/actions/scale', (c) => scale(c, byAppAndType(c)))
    .get('/apps/:guid/processes/:type/stats', (c) => stats(c, byAppAndType(c)))
    .get('/processes', (c) =>
      listResponse(
        c,
        runtime.state.processes.values(),
        {
          filters: {
            types: (p, types) => types.includes(p.type),
            guids: (p, guids) => guidIn(guids, p.guid),
            app_guids: (p, guids) => guidIn(guids, p.appGuid),
            space_guids: (p, guids) => guidIn(guids, runtime.state.spaceOfApp(p.appGuid)?.guid),
          },
        },
        (p) => present(c, p),
      ),
    )
    .get('/processes/:guid', (c) => c.json(present(c, byGuid(c))))
    .post('/processes/:guid/actions/scale', (c) => scale(c, byGuid(c)))
    .get('/processes/:guid/stats', (c) => stats(c, byGuid(c)));
}

// Processes: show, scale (202, as CC) and stats, by app and type or by process guid. Instances of a
// started app are STARTING until the instance start delay has passed, then RUNNING.
import { Hono, type Context } from 'hono';
import { isObject, optionalWholeNumber, readBody } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentProcess, presentProcessStats } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Droplet, Process } from '../state.ts';
import { checkProcessQuota } from '../quotas.ts';
import { canReadSpace, mustFind, requireSpaceWrite, touch, visibleApp } from './shared.ts';

/**
 * Why the process's instances crash, in Diego's words (executor health checks), or null: the
 * droplet's command cannot run, or a `port`/`http` health check finds nothing listening on $PORT.
 */
function crashReason(process: Process, droplet: Droplet | undefined): string | null {
  if (!droplet || process.type !== 'web') return null;
  if (droplet.startFailure) return droplet.startFailure;
  if (process.healthCheck.type === 'process' || droplet.listensOnPort) return null;
  return process.healthCheck.type === 'http'
    ? `Instance never healthy after 1m0s: Failed to make HTTP request to '${process.healthCheck.endpoint ?? '/'}' on port 8080: connection refused`
    : 'Instance never healthy after 1m0s: Failed to make TCP connection to port 8080: connection refused';
}

export function processRoutes(runtime: SimRuntime) {
  const byAppAndType = (c: Context<SimEnv>): Process => {
    const app = visibleApp(c, runtime, c.req.param('guid')!);
    const type = c.req.param('type');
    for (const process of runtime.state.processes.values()) if (process.appGuid === app.guid && process.type === type) return process;
    throw cfErrors.notFound('Process');
  };
  const byGuid = (c: Context<SimEnv>): Process => {
    const process = mustFind(runtime.state.processes, c.req.param('guid')!, 'Process');
    const space = runtime.state.spaceOfApp(process.appGuid);
    if (!space || !canReadSpace(c, runtime, space.guid)) throw cfErrors.notFound('Process');
    return process;
  };
  const writable = (c: Context<SimEnv>, process: Process): Process => {
    requireSpaceWrite(c, runtime, runtime.state.spaceOfApp(process.appGuid)?.guid ?? '');
    return process;
  };

  const present = (c: Context<SimEnv>, process: Process) =>
    presentProcess(process, runtime.state.spaceOfApp(process.appGuid)?.guid ?? '', c.var.baseUrl);

  const stats = (c: Context<SimEnv>, process: Process) => {
    const app = runtime.state.apps.get(process.appGuid);
    const droplet = app?.currentDropletGuid ? runtime.state.droplets.get(app.currentDropletGuid) : undefined;
    return c.json(presentProcessStats(process, app?.state === 'STARTED', runtime.now(), app?.usage, crashReason(process, droplet)));
  };

  const scale = async (c: Context<SimEnv>, process: Process) => {
    const body = await readBody(c, ['instances', 'memory_in_mb', 'disk_in_mb', 'log_rate_limit_in_bytes_per_second']);
    const instances = optionalWholeNumber(body, 'instances', 'Instances', 0);
    const memory = optionalWholeNumber(body, 'memory_in_mb', 'Memory in mb', 1);
    const disk = optionalWholeNumber(body, 'disk_in_mb', 'Disk in mb', 1);
    const logRate = optionalWholeNumber(body, 'log_rate_limit_in_bytes_per_second', 'Log rate limit in bytes per second', -1);
    const running = runtime.state.apps.get(process.appGuid)?.state === 'STARTED';
    if (running) {
      const others = [...runtime.state.processes.values()].filter((p) => p.appGuid === process.appGuid && p.guid !== process.guid);
      checkProcessQuota(runtime.state, process.appGuid, [...others, { instances: instances ?? process.instances, memoryInMb: memory ?? process.memoryInMb }]);
    }
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

  /** PATCH: the command and health check (processes_controller.rb#update; app/messages/process_update_message.rb). */
  const update = async (c: Context<SimEnv>, process: Process) => {
    const body = await readBody(c, ['command', 'health_check', 'readiness_health_check', 'metadata']);
    if (body.command !== undefined) {
      if (body.command !== null && typeof body.command !== 'string') throw cfErrors.unprocessable('Command must be a string');
      process.command = body.command;
    }
    if (body.health_check !== undefined) {
      const check = body.health_check;
      if (!isObject(check)) throw cfErrors.unprocessable('Health check must be an object');
      const type = check.type ?? process.healthCheck.type;
      if (type !== 'port' && type !== 'process' && type !== 'http') throw cfErrors.unprocessable('Health check type must be "port", "process", or "http"');
      const data = isObject(check.data) ? check.data : {};
      if (data.endpoint !== undefined && type !== 'http') throw cfErrors.unprocessable('Health check type must be "http" to set a health check HTTP endpoint');
      const whole = (value: unknown, label: string) => {
        if (value === undefined || value === null) return null;
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw cfErrors.unprocessable(`${label} must be greater than or equal to 1`);
        return value;
      };
      process.healthCheck = {
        type,
        endpoint: type === 'http' ? (typeof data.endpoint === 'string' ? data.endpoint : (process.healthCheck.endpoint ?? '/')) : null,
        timeout: whole(data.timeout, 'Timeout'),
        invocationTimeout: whole(data.invocation_timeout, 'Invocation timeout'),
      };
    }
    touch(process, runtime);
    return c.json(present(c, process));
  };

  const filters = {
    types: (p: Process, types: string[]) => types.includes(p.type),
    guids: (p: Process, guids: string[]) => guidIn(guids, p.guid),
    app_guids: (p: Process, guids: string[]) => guidIn(guids, p.appGuid),
    space_guids: (p: Process, guids: string[]) => guidIn(guids, runtime.state.spaceOfApp(p.appGuid)?.guid),
    organization_guids: (p: Process, guids: string[]) => guidIn(guids, runtime.state.spaceOfApp(p.appGuid)?.orgGuid),
  };

  return new Hono<SimEnv>()
    .get('/apps/:guid/processes', (c) => {
      const app = visibleApp(c, runtime, c.req.param('guid'));
      const processes = [...runtime.state.processes.values()].filter((p) => p.appGuid === app.guid);
      return listResponse(
        c,
        processes,
        { filters: { types: (p, types) => types.includes(p.type), guids: (p, guids) => guidIn(guids, p.guid) } },
        (p) => present(c, p),
      );
    })
    .get('/apps/:guid/processes/:type', (c) => c.json(present(c, byAppAndType(c))))
    .patch('/apps/:guid/processes/:type', (c) => update(c, writable(c, byAppAndType(c))))
    .post('/apps/:guid/processes/:type/actions/scale', (c) => scale(c, writable(c, byAppAndType(c))))
    .get('/apps/:guid/processes/:type/stats', (c) => stats(c, byAppAndType(c)))
    .get('/processes', (c) =>
      listResponse(
        c,
        [...runtime.state.processes.values()].filter((p) => canReadSpace(c, runtime, runtime.state.spaceOfApp(p.appGuid)?.guid ?? '')),
        { filters },
        (p) => present(c, p),
      ),
    )
    .get('/processes/:guid', (c) => c.json(present(c, byGuid(c))))
    .patch('/processes/:guid', (c) => update(c, writable(c, byGuid(c))))
    .post('/processes/:guid/actions/scale', (c) => scale(c, writable(c, byGuid(c))))
    .get('/processes/:guid/stats', (c) => stats(c, byGuid(c)));
}

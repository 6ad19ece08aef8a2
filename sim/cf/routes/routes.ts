// /v3/routes: create (host unique per domain and path), list, show, delete (as a job), and their
// destinations (inserting one that exists is a no-op, so retries are safe).
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { applyMetadata, isObject, optionalString, readBody, relationshipGuid, type Body } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import { presentDestinations, presentRoute } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Destination, Route } from '../state.ts';
import { checkRouteQuota } from '../quotas.ts';
import { accepted, canReadSpace, deleteJob, mustFind, requireSpaceWrite, touch } from './shared.ts';

const MAX_DESTINATIONS = 100;

export function routeRoutes(runtime: SimRuntime) {
  const list = (c: Context<SimEnv>, routes: Iterable<Route>) => {
    const { state } = runtime;
    return listResponse(
      c,
      [...routes].filter((r) => canReadSpace(c, runtime, r.spaceGuid)),
      {
        filters: {
          guids: (r, guids) => guidIn(guids, r.guid),
          hosts: (r, hosts) => hosts.some((h) => h.toLowerCase() === r.host.toLowerCase()),
          paths: (r, paths) => paths.includes(r.path),
          domain_guids: (r, guids) => guidIn(guids, r.domainGuid),
          space_guids: (r, guids) => guidIn(guids, r.spaceGuid),
          organization_guids: (r, guids) => guidIn(guids, state.spaces.get(r.spaceGuid)?.orgGuid),
          app_guids: (r, guids) => r.destinations.some((d) => guidIn(guids, d.appGuid)),
        },
      },
      (r) => presentRoute(r, state, c.var.baseUrl),
    );
  };

  /** Parses {"destinations":[{"app":{"guid","process":{"type"}},"port","protocol"}]} against the route's space. */
  const destinationsFrom = (body: Body, route: Route): Destination[] => {
    if (!Array.isArray(body.destinations)) throw cfErrors.unprocessable('Destinations must be an array');
    const parsed = body.destinations.map((item: unknown) => {
      const app = isObject(item) ? item.app : undefined;
      const guid = isObject(app) ? app.guid : undefined;
      if (!isObject(item) || typeof guid !== 'string') throw cfErrors.unprocessable('Destinations must have the structure "destinations": [{"app": {"guid": "app_guid"}}]');
      const process = isObject(app) && isObject(app.process) ? app.process.type : undefined;
      const port = item.port ?? 8080;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1024 || port > 65535) throw cfErrors.unprocessable('Port must be an integer between 1024 and 65535');
      const protocol = item.protocol ?? 'http1';
      if (protocol !== 'http1' && protocol !== 'http2') throw cfErrors.unprocessable("Protocol must be 'http1' or 'http2'");
      return { guid: randomUUID(), appGuid: guid, processType: typeof process === 'string' ? process : 'web', port, protocol };
    });
    const missing = parsed.filter((d) => !runtime.state.apps.has(d.appGuid)).map((d) => d.appGuid);
    if (missing.length > 0) throw cfErrors.unprocessable(`App(s) with guid(s) "${missing.join('", "')}" do not exist or you do not have access.`);
    if (parsed.some((d) => runtime.state.apps.get(d.appGuid)!.spaceGuid !== route.spaceGuid)) {
      throw cfErrors.unprocessable('Routes cannot be mapped to destinations in different spaces.');
    }
    return parsed;
  };

  const sameTarget = (a: Destination, b: Destination) => a.appGuid === b.appGuid && a.processType === b.processType && a.port === b.port;

  const replaceDestinations = (route: Route, destinations: Destination[]) => {
    if (destinations.length > MAX_DESTINATIONS) throw cfErrors.unprocessable(`Routes can be mapped to at most ${MAX_DESTINATIONS} destinations.`);
    route.destinations = destinations;
    touch(route, runtime);
  };

  return new Hono<SimEnv>()
    .post('/routes', async (c) => {
      const body = await readBody(c, ['host', 'path', 'port', 'relationships', 'options', 'metadata']);
      const host = optionalString(body, 'host', 'Host') ?? '';
      const path = optionalString(body, 'path', 'Path') ?? '';
      const spaceGuid = relationshipGuid(body, 'space');
      const domainGuid = relationshipGuid(body, 'domain');
      const { state } = runtime;
      if (!/^(\*|[\w-]{0,63})$/.test(host)) throw cfErrors.unprocessable('Host must be either "*" or contain only alphanumeric characters, "_", or "-"');
      if (path !== '' && !path.startsWith('/')) throw cfErrors.unprocessable('Path must begin with /');
      if (!state.spaces.has(spaceGuid) || !canReadSpace(c, runtime, spaceGuid)) throw cfErrors.unprocessable('Invalid space. Ensure that the space exists and you have access to it.');
      requireSpaceWrite(c, runtime, spaceGuid);
      const domain = state.domains.get(domainGuid);
      if (!domain) throw cfErrors.unprocessable('Invalid domain. Ensure that the domain exists and you have access to it.');
      for (const other of state.routes.values()) {
        if (other.domainGuid === domainGuid && other.host.toLowerCase() === host.toLowerCase() && other.path === path) {
          const where = path ? `host '${host}' and path '${path}'` : `host '${host}'`;
          throw cfErrors.unprocessable(`Route already exists with ${where} for domain '${domain.name}'.`);
        }
      }
      checkRouteQuota(state, spaceGuid);
      const route: Route = { ...state.newResource(), host, path, domainGuid, spaceGuid, destinations: [] };
      applyMetadata(route.metadata, body.metadata);
      state.routes.set(route.guid, route);
      return c.json(presentRoute(route, state, c.var.baseUrl), 201);
    })
    .get('/routes', (c) => list(c, runtime.state.routes.values()))
    .get('/routes/:guid', (c) => c.json(presentRoute(mustFind(runtime.state.routes, c.req.param('guid'), 'Route'), runtime.state, c.var.baseUrl)))
    .delete('/routes/:guid', (c) => {
      const route = mustFind(runtime.state.routes, c.req.param('guid'), 'Route');
      requireSpaceWrite(c, runtime, route.spaceGuid);
      return accepted(c, deleteJob(runtime, 'route.delete', () => runtime.state.deleteRoute(route.guid)));
    })
    .get('/apps/:guid/routes', (c) => {
      const app = mustFind(runtime.state.apps, c.req.param('guid'), 'App');
      return list(c, [...runtime.state.routes.values()].filter((r) => r.destinations.some((d) => d.appGuid === app.guid)));
    })
    .get('/routes/:guid/destinations', (c) => c.json(presentDestinations(mustFind(runtime.state.routes, c.req.param('guid'), 'Route'), c.var.baseUrl)))
    .post('/routes/:guid/destinations', async (c) => {
      const route = mustFind(runtime.state.routes, c.req.param('guid'), 'Route');
      requireSpaceWrite(c, runtime, route.spaceGuid);
      const added = destinationsFrom(await readBody(c, ['destinations']), route);
      const fresh = added.filter((d, i) => !route.destinations.some((e) => sameTarget(d, e)) && !added.slice(0, i).some((e) => sameTarget(d, e)));
      if (fresh.length > 0) replaceDestinations(route, [...route.destinations, ...fresh]);
      return c.json(presentDestinations(route, c.var.baseUrl));
    })
    .patch('/routes/:guid/destinations', async (c) => {
      const route = mustFind(runtime.state.routes, c.req.param('guid'), 'Route');
      const given = destinationsFrom(await readBody(c, ['destinations']), route);
      // Destinations that stay keep their guids.
      replaceDestinations(route, given.map((d) => route.destinations.find((e) => sameTarget(d, e)) ?? d));
      return c.json(presentDestinations(route, c.var.baseUrl));
    })
    .delete('/routes/:guid/destinations/:destination', (c) => {
      const route = mustFind(runtime.state.routes, c.req.param('guid'), 'Route');
      const kept = route.destinations.filter((d) => d.guid !== c.req.param('destination'));
      if (kept.length === route.destinations.length) throw cfErrors.unprocessable('Unable to unmap route from destination. Ensure the route has a destination with this guid.');
      replaceDestinations(route, kept);
      return c.body(null, 204);
    });
}

// /v3/domains: the shared apps domain, read-only.
import { Hono } from 'hono';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import { presentDomain } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { mustFind } from './shared.ts';

export function domainRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .get('/domains', (c) =>
      listResponse(
        c,
        runtime.state.domains.values(),
        {
          filters: {
            names: (domain, names) => nameIn(names, domain.name),
            guids: (domain, guids) => guidIn(guids, domain.guid),
            // Shared domains belong to no organization, so they are listed for every one.
            organization_guids: (_domain, guids) => guids.some((guid) => runtime.state.organizations.has(guid)),
          },
          orderByName: true,
        },
        (domain) => presentDomain(domain, c.var.baseUrl),
      ),
    )
    .get('/domains/:guid', (c) => c.json(presentDomain(mustFind(runtime.state.domains, c.req.param('guid'), 'Domain'), c.var.baseUrl)));
}

// /v3/domains: the shared apps domain, plus domains an admin creates (shared, private to an
// organization, or TCP with a router group), as CC's DomainCreate (app/actions/domain_create.rb).
import { Hono } from 'hono';
import { applyMetadata, isObject, readBody, requiredString } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import { presentDomain } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Domain } from '../state.ts';
import { mustFind } from './shared.ts';

/**
 * An organization's default domain as CC's Organization#default_domain picks it: the oldest shared
 * domain that is neither internal nor TCP (a router group), else the organization's first private domain.
 */
export function defaultDomainOf(domains: Iterable<Domain>, organizationGuid: string): Domain | undefined {
  const oldestFirst = [...domains].sort((a, b) => a.seq - b.seq);
  return (
    oldestFirst.find((d) => !d.organizationGuid && !d.internal && !d.routerGroupGuid) ??
    oldestFirst.find((d) => d.organizationGuid === organizationGuid)
  );
}

export function domainRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .post('/domains', async (c) => {
      const body = await readBody(c, ['name', 'internal', 'router_group', 'relationships', 'metadata']);
      const name = requiredString(body, 'name', 'Name');
      const { state } = runtime;
      const relationships = isObject(body.relationships) ? body.relationships : {};
      const organization = isObject(relationships.organization) && isObject(relationships.organization.data) ? relationships.organization.data.guid : undefined;
      if (organization !== undefined && (typeof organization !== 'string' || !state.organizations.has(organization))) {
        throw cfErrors.unprocessable(`Organization with guid '${String(organization)}' does not exist or you do not have access to it.`);
      }
      const routerGroup = isObject(body.router_group) ? body.router_group.guid : undefined;
      if (body.router_group !== undefined && typeof routerGroup !== 'string') throw cfErrors.unprocessable('Router group must be an object with a guid');
      if ([...state.domains.values()].some((d) => nameIn([name], d.name))) throw cfErrors.unprocessable(`The domain name "${name}" is already in use`);
      const domain: Domain = {
        ...state.newResource(),
        name,
        internal: body.internal === true,
        routerGroupGuid: typeof routerGroup === 'string' ? routerGroup : null,
        organizationGuid: (organization as string | undefined) ?? null,
      };
      applyMetadata(domain.metadata, body.metadata);
      state.domains.set(domain.guid, domain);
      return c.json(presentDomain(domain, c.var.baseUrl), 201);
    })
    .get('/domains', (c) =>
      listResponse(
        c,
        runtime.state.domains.values(),
        {
          filters: {
            names: (domain, names) => nameIn(names, domain.name),
            guids: (domain, guids) => guidIn(guids, domain.guid),
            // Shared domains belong to no organization, so they are listed for every one.
            organization_guids: (domain, guids) =>
              domain.organizationGuid ? guidIn(guids, domain.organizationGuid) : guids.some((guid) => runtime.state.organizations.has(guid)),
          },
          orderByName: true,
        },
        (domain) => presentDomain(domain, c.var.baseUrl),
      ),
    )
    .get('/domains/:guid', (c) => c.json(presentDomain(mustFind(runtime.state.domains, c.req.param('guid'), 'Domain'), c.var.baseUrl)))
    .get('/organizations/:guid/domains/default', (c) => {
      const org = mustFind(runtime.state.organizations, c.req.param('guid'), 'Organization');
      const domain = defaultDomainOf(runtime.state.domains.values(), org.guid);
      if (!domain) throw cfErrors.notFound('Domain');
      return c.json(presentDomain(domain, c.var.baseUrl));
    });
}

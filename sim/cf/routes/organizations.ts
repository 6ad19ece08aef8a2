// /v3/organizations: create, list (names, guids), show, delete (recursive, as a job).
import { Hono } from 'hono';
import { applyMetadata, readBody, requiredString } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import { presentOrganization } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { accepted, deleteJob, mustFind } from './shared.ts';

export function organizationRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .post('/organizations', async (c) => {
      const body = await readBody(c, ['name', 'suspended', 'metadata']);
      const name = requiredString(body, 'name', 'Name');
      const { state } = runtime;
      if ([...state.organizations.values()].some((org) => nameIn([name], org.name))) {
        throw cfErrors.unprocessable(`Organization '${name}' already exists.`);
      }
      const org = { ...state.newResource(), name, suspended: body.suspended === true };
      applyMetadata(org.metadata, body.metadata);
      state.organizations.set(org.guid, org);
      return c.json(presentOrganization(org, c.var.baseUrl), 201);
    })
    .get('/organizations', (c) =>
      listResponse(
        c,
        runtime.state.organizations.values(),
        { filters: { names: (org, names) => nameIn(names, org.name), guids: (org, guids) => guidIn(guids, org.guid) }, orderByName: true },
        (org) => presentOrganization(org, c.var.baseUrl),
      ),
    )
    .get('/organizations/:guid', (c) => c.json(presentOrganization(mustFind(runtime.state.organizations, c.req.param('guid'), 'Organization'), c.var.baseUrl)))
    .delete('/organizations/:guid', (c) => {
      const org = mustFind(runtime.state.organizations, c.req.param('guid'), 'Organization');
      return accepted(c, deleteJob(runtime, 'organization.delete', () => runtime.state.deleteOrganization(org.guid)));
    });
}

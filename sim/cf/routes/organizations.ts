// /v3/organizations: create, list (names, guids), show, delete (recursive, as a job).
import { Hono } from 'hono';
import { applyMetadata, readBody, requiredString } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import { presentOrganization } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { DEFAULT_QUOTA_GUID } from '../state.ts';
import { accepted, canReadOrganization, deleteJob, mustFind } from './shared.ts';

export function organizationRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .post('/organizations', async (c) => {
      // Only admins create organizations (organizations_v3_controller.rb, unless the user_org_creation flag is on).
      if (!c.var.principal!.admin) throw cfErrors.notAuthorized();
      const body = await readBody(c, ['name', 'suspended', 'metadata']);
      const name = requiredString(body, 'name', 'Name');
      const { state } = runtime;
      if ([...state.organizations.values()].some((org) => nameIn([name], org.name))) {
        throw cfErrors.unprocessable(`Organization '${name}' already exists.`);
      }
      const org = { ...state.newResource(), name, suspended: body.suspended === true, quotaGuid: DEFAULT_QUOTA_GUID };
      applyMetadata(org.metadata, body.metadata);
      state.organizations.set(org.guid, org);
      return c.json(presentOrganization(org, c.var.baseUrl), 201);
    })
    .get('/organizations', (c) =>
      listResponse(
        c,
        [...runtime.state.organizations.values()].filter((org) => canReadOrganization(c, runtime, org.guid)),
        { filters: { names: (org, names) => nameIn(names, org.name), guids: (org, guids) => guidIn(guids, org.guid) }, orderByName: true },
        (org) => presentOrganization(org, c.var.baseUrl),
      ),
    )
    .get('/organizations/:guid', (c) => {
      const org = mustFind(runtime.state.organizations, c.req.param('guid'), 'Organization');
      if (!canReadOrganization(c, runtime, org.guid)) throw cfErrors.notFound('Organization');
      return c.json(presentOrganization(org, c.var.baseUrl));
    })
    .delete('/organizations/:guid', (c) => {
      const org = mustFind(runtime.state.organizations, c.req.param('guid'), 'Organization');
      if (!c.var.principal!.admin) throw canReadOrganization(c, runtime, org.guid) ? cfErrors.notAuthorized() : cfErrors.notFound('Organization');
      return accepted(c, deleteJob(runtime, 'organization.delete', () => runtime.state.deleteOrganization(org.guid)));
    });
}

// /v3/spaces: create, list (names, guids, organization_guids), show, delete (recursive, as a job).
import { Hono } from 'hono';
import { applyMetadata, readBody, relationshipGuid, requiredString } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import { presentSpace } from '../presenters.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { accepted, canReadOrganization, canReadSpace, deleteJob, mustFind } from './shared.ts';

export function spaceRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .post('/spaces', async (c) => {
      const body = await readBody(c, ['name', 'relationships', 'metadata']);
      const name = requiredString(body, 'name', 'Name');
      const orgGuid = relationshipGuid(body, 'organization');
      const { state } = runtime;
      if (!state.organizations.has(orgGuid) || !canReadOrganization(c, runtime, orgGuid)) {
        throw cfErrors.unprocessable('Invalid organization. Ensure the organization exists and you have access to it.');
      }
      // Admins and organization managers create spaces (spaces_v3_controller.rb).
      const principal = c.var.principal!;
      if (!principal.admin && !state.hasRole(principal.subject, 'organization_manager', orgGuid)) throw cfErrors.notAuthorized();
      // app/actions/space_create.rb turns the uniqueness violation into this wording.
      if ([...state.spaces.values()].some((s) => s.orgGuid === orgGuid && nameIn([name], s.name))) throw cfErrors.unprocessable('Name must be unique per organization');
      const space = { ...state.newResource(), name, orgGuid };
      applyMetadata(space.metadata, body.metadata);
      state.spaces.set(space.guid, space);
      return c.json(presentSpace(space, c.var.baseUrl), 201);
    })
    .get('/spaces', (c) =>
      listResponse(
        c,
        [...runtime.state.spaces.values()].filter((space) => canReadSpace(c, runtime, space.guid)),
        {
          filters: {
            names: (space, names) => nameIn(names, space.name),
            guids: (space, guids) => guidIn(guids, space.guid),
            organization_guids: (space, guids) => guidIn(guids, space.orgGuid),
          },
          orderByName: true,
        },
        (space) => presentSpace(space, c.var.baseUrl),
      ),
    )
    .get('/spaces/:guid', (c) => c.json(presentSpace(mustFind(runtime.state.spaces, c.req.param('guid'), 'Space'), c.var.baseUrl)))
    .delete('/spaces/:guid', (c) => {
      const space = mustFind(runtime.state.spaces, c.req.param('guid'), 'Space');
      return accepted(c, deleteJob(runtime, 'space.delete', () => runtime.state.deleteSpace(space.guid)));
    });
}

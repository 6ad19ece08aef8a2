// /v3/roles: what lets a user who is not an admin work in an organization or space. As CC's
// RoleCreate (app/actions/role_create.rb): admins and organization managers assign roles; a space
// role needs an organization role first; a role that exists is 422.
import { Hono } from 'hono';
import { isObject, readBody } from '../body.ts';
import { ccTimestamp } from '../clock.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse } from '../lists.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { Role, RoleType } from '../state.ts';
import { mustFind } from './shared.ts';

const ORGANIZATION_ROLES: RoleType[] = ['organization_user', 'organization_manager'];
const SPACE_ROLES: RoleType[] = ['space_developer', 'space_manager', 'space_auditor'];

const guidOf = (relationships: unknown, name: string) => {
  const relationship = isObject(relationships) ? relationships[name] : undefined;
  const data = isObject(relationship) ? relationship.data : undefined;
  return isObject(data) && typeof data.guid === 'string' ? data.guid : undefined;
};

function presentRole(role: Role, base: string) {
  const inSpace = SPACE_ROLES.includes(role.type);
  return {
    guid: role.guid,
    created_at: ccTimestamp(role.createdAt),
    updated_at: ccTimestamp(role.updatedAt),
    type: role.type,
    relationships: {
      user: { data: { guid: role.userGuid } },
      organization: { data: inSpace ? null : { guid: role.targetGuid } },
      space: { data: inSpace ? { guid: role.targetGuid } : null },
    },
    links: { self: { href: `${base}/v3/roles/${role.guid}` }, user: { href: `${base}/v3/users/${role.userGuid}` } },
  };
}

export function roleRoutes(runtime: SimRuntime) {
  return new Hono<SimEnv>()
    .post('/roles', async (c) => {
      const body = await readBody(c, ['type', 'relationships']);
      const type = body.type as RoleType;
      const inSpace = SPACE_ROLES.includes(type);
      if (!inSpace && !ORGANIZATION_ROLES.includes(type)) throw cfErrors.unprocessable(`Type must be one of the allowed types ${JSON.stringify([...ORGANIZATION_ROLES, ...SPACE_ROLES])}`);
      const userGuid = guidOf(body.relationships, 'user');
      const targetGuid = guidOf(body.relationships, inSpace ? 'space' : 'organization');
      if (!userGuid || !targetGuid) throw cfErrors.unprocessable(`Relationships must include user and ${inSpace ? 'space' : 'organization'}`);
      const { state } = runtime;
      const orgGuid = inSpace ? state.spaces.get(targetGuid)?.orgGuid : state.organizations.has(targetGuid) ? targetGuid : undefined;
      if (!orgGuid) throw cfErrors.unprocessable(`Invalid ${inSpace ? 'space' : 'organization'}. Ensure that the ${inSpace ? 'space' : 'organization'} exists and you have access to it.`);
      const principal = c.var.principal!;
      if (!principal.admin && !state.hasRole(principal.subject, 'organization_manager', orgGuid)) throw cfErrors.notAuthorized();
      if (inSpace && !ORGANIZATION_ROLES.some((t) => state.hasRole(userGuid, t, orgGuid))) {
        throw cfErrors.unprocessable("Users cannot be assigned roles in a space if they do not have a role in that space's organization.");
      }
      if (state.hasRole(userGuid, type, targetGuid)) throw cfErrors.unprocessable(`User '${userGuid}' already has '${type}' role in ${inSpace ? 'space' : 'organization'} '${targetGuid}'.`);
      const role: Role = { ...state.newResource(), type, userGuid, targetGuid };
      state.roles.set(role.guid, role);
      return c.json(presentRole(role, c.var.baseUrl), 201);
    })
    .get('/roles', (c) =>
      listResponse(
        c,
        [...runtime.state.roles.values()].filter((r) => c.var.principal!.admin || r.userGuid === c.var.principal!.subject),
        {
          filters: {
            types: (r, types) => types.includes(r.type),
            user_guids: (r, guids) => guidIn(guids, r.userGuid),
            space_guids: (r, guids) => guidIn(guids, r.targetGuid),
            organization_guids: (r, guids) => guidIn(guids, r.targetGuid),
          },
        },
        (r) => presentRole(r, c.var.baseUrl),
      ),
    )
    .get('/roles/:guid', (c) => c.json(presentRole(mustFind(runtime.state.roles, c.req.param('guid'), 'Role'), c.var.baseUrl)));
}

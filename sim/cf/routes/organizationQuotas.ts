// /v3/organization_quotas: create, list (names, guids, organization_guids), show, update (PATCH:
// only the limits sent change) and apply to organizations. Admin only, as CC's
// organization_quotas_controller.rb; limits are whole numbers ≥ 0 or null (unlimited), as
// app/messages/organization_quotas_create_message.rb checks them.
import { Hono, type Context } from 'hono';
import { isObject, readBody, requiredString, type Body } from '../body.ts';
import { ccTimestamp } from '../clock.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import { defaultQuotaLimits, type OrganizationQuota, type OrganizationQuotaLimits, type SimState } from '../state.ts';
import { mustFind, requireAdmin, toManyGuids, touch } from './shared.ts';

type Group = keyof OrganizationQuotaLimits;
const groups: Group[] = ['apps', 'services', 'routes', 'domains'];
const booleanLimits = new Set(['paid_services_allowed']);

/** The limits a request body sets, checked field by field (a PATCH sends only the ones it changes). */
function limitsFrom(body: Body): { [G in Group]?: Partial<OrganizationQuotaLimits[G]> } {
  const changes: { [G in Group]?: Record<string, number | boolean | null> } = {};
  const template = defaultQuotaLimits();
  for (const group of groups) {
    const given = body[group];
    if (given === undefined) continue;
    if (!isObject(given)) throw cfErrors.unprocessable(`${group[0]!.toUpperCase()}${group.slice(1)} must be an object`);
    const known = Object.keys(template[group]);
    const unknown = Object.keys(given).filter((key) => !known.includes(key));
    if (unknown.length > 0) throw cfErrors.unprocessable(`Unknown field(s): '${unknown.join("', '")}'`);
    const values: Record<string, number | boolean | null> = {};
    for (const [key, value] of Object.entries(given)) {
      const label = key.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
      if (booleanLimits.has(key)) {
        if (typeof value !== 'boolean') throw cfErrors.unprocessable(`${label} must be a boolean`);
      } else if (value !== null && (typeof value !== 'number' || !Number.isInteger(value))) {
        throw cfErrors.unprocessable(`${label} is not a number`);
      } else if (typeof value === 'number' && value < 0) {
        throw cfErrors.unprocessable(`${label} must be greater than or equal to 0`);
      }
      values[key] = value as number | boolean | null;
    }
    changes[group] = values;
  }
  return changes as { [G in Group]?: Partial<OrganizationQuotaLimits[G]> };
}

function applyLimits(quota: OrganizationQuota, changes: ReturnType<typeof limitsFrom>): void {
  for (const group of groups) Object.assign(quota[group], changes[group] ?? {});
}

const organizationsOf = (state: SimState, quota: OrganizationQuota) => [...state.organizations.values()].filter((org) => state.quotaOf(org.guid) === quota);

export function presentOrganizationQuota(quota: OrganizationQuota, state: SimState, base: string) {
  return {
    guid: quota.guid,
    created_at: ccTimestamp(quota.createdAt),
    updated_at: ccTimestamp(quota.updatedAt),
    name: quota.name,
    apps: { ...quota.apps },
    services: { ...quota.services },
    routes: { ...quota.routes },
    domains: { ...quota.domains },
    relationships: { organizations: { data: organizationsOf(state, quota).map((org) => ({ guid: org.guid })) } },
    links: { self: { href: `${base}/v3/organization_quotas/${quota.guid}` } },
  };
}

export function organizationQuotaRoutes(runtime: SimRuntime) {
  const ensureUniqueName = (name: string, except?: OrganizationQuota) => {
    if ([...runtime.state.organizationQuotas.values()].some((q) => q !== except && nameIn([name], q.name))) {
      throw cfErrors.unprocessable(`Organization Quota '${name}' already exists.`);
    }
  };
  const organizationGuids = (body: Body) =>
    toManyGuids(body, (guid) => runtime.state.organizations.has(guid), (missing) => `Organizations with guids ${JSON.stringify(missing)} do not exist, or you do not have access to them.`);
  const show = (c: Context<SimEnv>, quota: OrganizationQuota, status: 200 | 201 = 200) => c.json(presentOrganizationQuota(quota, runtime.state, c.var.baseUrl), status);

  return new Hono<SimEnv>()
    .post('/organization_quotas', async (c) => {
      requireAdmin(runtime, c);
      const body = await readBody(c, ['name', ...groups, 'relationships']);
      const name = requiredString(body, 'name', 'Name');
      const changes = limitsFrom(body);
      const relationships = body.relationships;
      const orgs = isObject(relationships) && isObject(relationships.organizations) ? organizationGuids(relationships.organizations) : [];
      ensureUniqueName(name);
      const { state } = runtime;
      // Limits not sent are unlimited (CC's create defaults), except paid services (allowed).
      const quota: OrganizationQuota = {
        ...state.newResource(),
        name,
        apps: { per_process_memory_in_mb: null, total_memory_in_mb: null, total_instances: null, per_app_tasks: null, log_rate_limit_in_bytes_per_second: null },
        services: { paid_services_allowed: true, total_service_instances: null, total_service_keys: null },
        routes: { total_routes: null, total_reserved_ports: null },
        domains: { total_domains: null },
      };
      applyLimits(quota, changes);
      state.organizationQuotas.set(quota.guid, quota);
      for (const guid of orgs) state.organizations.get(guid)!.quotaGuid = quota.guid;
      return show(c, quota, 201);
    })
    .get('/organization_quotas', (c) => {
      const { state } = runtime;
      return listResponse(
        c,
        state.organizationQuotas.values(),
        {
          filters: {
            names: (q, names) => nameIn(names, q.name),
            guids: (q, guids) => guidIn(guids, q.guid),
            organization_guids: (q, guids) => organizationsOf(state, q).some((org) => guidIn(guids, org.guid)),
          },
          orderByName: true,
        },
        (q) => presentOrganizationQuota(q, state, c.var.baseUrl),
      );
    })
    .get('/organization_quotas/:guid', (c) => show(c, mustFind(runtime.state.organizationQuotas, c.req.param('guid'), 'Organization quota')))
    .patch('/organization_quotas/:guid', async (c) => {
      requireAdmin(runtime, c);
      const quota = mustFind(runtime.state.organizationQuotas, c.req.param('guid'), 'Organization quota');
      const body = await readBody(c, ['name', ...groups]);
      const name = body.name === undefined ? undefined : requiredString(body, 'name', 'Name');
      const changes = limitsFrom(body);
      if (name !== undefined) {
        ensureUniqueName(name, quota);
        quota.name = name;
      }
      applyLimits(quota, changes);
      touch(quota, runtime);
      return show(c, quota);
    })
    .post('/organization_quotas/:guid/relationships/organizations', async (c) => {
      requireAdmin(runtime, c);
      const quota = mustFind(runtime.state.organizationQuotas, c.req.param('guid'), 'Organization quota');
      const orgs = organizationGuids(await readBody(c, ['data']));
      for (const guid of orgs) runtime.state.organizations.get(guid)!.quotaGuid = quota.guid;
      const base = c.var.baseUrl;
      return c.json({ data: orgs.map((guid) => ({ guid })), links: { self: { href: `${base}/v3/organization_quotas/${quota.guid}/relationships/organizations` } } });
    });
}

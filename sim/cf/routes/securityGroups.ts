// /v3/security_groups: create, list (names, guids, running_space_guids, staging_space_guids,
// globally_enabled_*), show, update (PATCH: name, rules, globally_enabled) and bind to spaces for
// the running lifecycle. As CC's security_groups_controller.rb: creating and updating are admin
// only; rules are checked as app/messages/validators/security_group_rule_validator.rb does (a
// protocol of tcp, udp, icmp or all; a destination; ports for tcp and udp; no unknown fields).
import { Hono, type Context } from 'hono';
import { ccTimestamp } from '../clock.ts';
import { isObject, readBody, requiredString, type Body } from '../body.ts';
import { cfErrors } from '../errors.ts';
import { guidIn, listResponse, nameIn } from '../lists.ts';
import type { SimEnv, SimRuntime } from '../context.ts';
import type { SecurityGroup, SecurityGroupRule } from '../state.ts';
import { mustFind, requireAdmin, toManyGuids, touch } from './shared.ts';

const protocols = ['tcp', 'udp', 'icmp', 'all'];
const ruleFields = ['protocol', 'destination', 'ports', 'type', 'code', 'description', 'log'];

function rulesFrom(value: unknown): SecurityGroupRule[] {
  if (!Array.isArray(value)) throw cfErrors.unprocessable('Rules must be an array');
  return value.map((rule: unknown, index) => {
    const problem = (detail: string) => cfErrors.unprocessable(`Rules[${index}]: ${detail}`);
    if (!isObject(rule)) throw problem('must be an object');
    const unknown = Object.keys(rule).filter((key) => !ruleFields.includes(key));
    if (unknown.length > 0) throw problem(`unknown field(s): ${JSON.stringify(unknown)}`);
    if (typeof rule.protocol !== 'string' || !protocols.includes(rule.protocol)) throw problem("protocol must be 'tcp', 'udp', 'icmp', or 'all'");
    if (typeof rule.destination !== 'string' || rule.destination === '') throw problem('destination must be a valid CIDR, IP address, or IP address range');
    if ((rule.protocol === 'tcp' || rule.protocol === 'udp') && (typeof rule.ports !== 'string' || !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(rule.ports.replace(/\s/g, '')))) {
      throw problem('ports must be a valid single port, comma separated list of ports, or range or ports, formatted as a string');
    }
    const parsed: SecurityGroupRule = { protocol: rule.protocol as SecurityGroupRule['protocol'], destination: rule.destination };
    if (typeof rule.ports === 'string') parsed.ports = rule.ports;
    if (typeof rule.type === 'number') parsed.type = rule.type;
    if (typeof rule.code === 'number') parsed.code = rule.code;
    if (typeof rule.description === 'string') parsed.description = rule.description;
    if (typeof rule.log === 'boolean') parsed.log = rule.log;
    return parsed;
  });
}

function globallyEnabledFrom(value: unknown, current: SecurityGroup['globallyEnabled']): SecurityGroup['globallyEnabled'] {
  if (value === undefined) return current;
  if (!isObject(value) || Object.values(value).some((v) => typeof v !== 'boolean')) throw cfErrors.unprocessable('Globally enabled must be an object of booleans');
  return { running: (value.running as boolean | undefined) ?? current.running, staging: (value.staging as boolean | undefined) ?? current.staging };
}

const toMany = (guids: Set<string>) => ({ data: [...guids].map((guid) => ({ guid })) });

export function presentSecurityGroup(group: SecurityGroup, base: string) {
  return {
    guid: group.guid,
    created_at: ccTimestamp(group.createdAt),
    updated_at: ccTimestamp(group.updatedAt),
    name: group.name,
    globally_enabled: { ...group.globallyEnabled },
    rules: group.rules.map((rule) => ({ ...rule })),
    relationships: { staging_spaces: toMany(group.stagingSpaceGuids), running_spaces: toMany(group.runningSpaceGuids) },
    links: { self: { href: `${base}/v3/security_groups/${group.guid}` } },
  };
}

export function securityGroupRoutes(runtime: SimRuntime) {
  const ensureUniqueName = (name: string, except?: SecurityGroup) => {
    if ([...runtime.state.securityGroups.values()].some((g) => g !== except && nameIn([name], g.name))) {
      throw cfErrors.unprocessable(`Security group with name '${name}' already exists.`);
    }
  };
  const spaceGuids = (body: Body) =>
    toManyGuids(body, (guid) => runtime.state.spaces.has(guid), (missing) => `Spaces with guids ${JSON.stringify(missing)} do not exist, or you do not have access to them.`);
  const show = (c: Context<SimEnv>, group: SecurityGroup, status: 200 | 201 = 200) => c.json(presentSecurityGroup(group, c.var.baseUrl), status);
  const flag = (value: string, expected: boolean) => (value === 'true') === expected;

  return new Hono<SimEnv>()
    .post('/security_groups', async (c) => {
      requireAdmin(runtime, c);
      const body = await readBody(c, ['name', 'rules', 'globally_enabled', 'relationships']);
      const name = requiredString(body, 'name', 'Name');
      const rules = body.rules === undefined ? [] : rulesFrom(body.rules);
      const globallyEnabled = globallyEnabledFrom(body.globally_enabled, { running: false, staging: false });
      const relationships = isObject(body.relationships) ? body.relationships : {};
      const running = isObject(relationships.running_spaces) ? spaceGuids(relationships.running_spaces) : [];
      const staging = isObject(relationships.staging_spaces) ? spaceGuids(relationships.staging_spaces) : [];
      ensureUniqueName(name);
      const group: SecurityGroup = { ...runtime.state.newResource(), name, rules, globallyEnabled, runningSpaceGuids: new Set(running), stagingSpaceGuids: new Set(staging) };
      runtime.state.securityGroups.set(group.guid, group);
      return show(c, group, 201);
    })
    .get('/security_groups', (c) =>
      listResponse(
        c,
        runtime.state.securityGroups.values(),
        {
          filters: {
            names: (g, names) => nameIn(names, g.name),
            guids: (g, guids) => guidIn(guids, g.guid),
            running_space_guids: (g, guids) => [...g.runningSpaceGuids].some((guid) => guidIn(guids, guid)),
            staging_space_guids: (g, guids) => [...g.stagingSpaceGuids].some((guid) => guidIn(guids, guid)),
            globally_enabled_running: (g, [value]) => flag(value!, g.globallyEnabled.running),
            globally_enabled_staging: (g, [value]) => flag(value!, g.globallyEnabled.staging),
          },
        },
        (g) => presentSecurityGroup(g, c.var.baseUrl),
      ),
    )
    .get('/security_groups/:guid', (c) => show(c, mustFind(runtime.state.securityGroups, c.req.param('guid'), 'Security group')))
    .patch('/security_groups/:guid', async (c) => {
      requireAdmin(runtime, c);
      const group = mustFind(runtime.state.securityGroups, c.req.param('guid'), 'Security group');
      const body = await readBody(c, ['name', 'rules', 'globally_enabled']);
      const name = body.name === undefined ? undefined : requiredString(body, 'name', 'Name');
      const rules = body.rules === undefined ? undefined : rulesFrom(body.rules);
      const globallyEnabled = globallyEnabledFrom(body.globally_enabled, group.globallyEnabled);
      if (name !== undefined) {
        ensureUniqueName(name, group);
        group.name = name;
      }
      if (rules) group.rules = rules;
      group.globallyEnabled = globallyEnabled;
      touch(group, runtime);
      return show(c, group);
    })
    .post('/security_groups/:guid/relationships/running_spaces', async (c) => {
      requireAdmin(runtime, c);
      const group = mustFind(runtime.state.securityGroups, c.req.param('guid'), 'Security group');
      for (const guid of spaceGuids(await readBody(c, ['data']))) group.runningSpaceGuids.add(guid);
      return c.json({ ...toMany(group.runningSpaceGuids), links: { self: { href: `${c.var.baseUrl}/v3/security_groups/${group.guid}/relationships/running_spaces` } } });
    });
}

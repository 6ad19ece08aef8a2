// The simulated foundation: every resource in memory, plus the background transitions (staging,
// copies, uploads, jobs) that complete at a due time. Transitions are applied lazily, in due order,
// before each request is handled, so a fake clock drives them without timers.
import { randomUUID } from 'node:crypto';

export interface Metadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface Resource {
  guid: string;
  /** Creation order, to break ties between resources created in the same millisecond. */
  seq: number;
  createdAt: number;
  updatedAt: number;
  metadata: Metadata;
}

export interface Organization extends Resource {
  name: string;
  suspended: boolean;
  /** The organization quota applied to it; unset: the default quota. */
  quotaGuid?: string;
}

/** An organization quota's limits as CC's v3 object names them (null: unlimited). */
export interface OrganizationQuotaLimits {
  apps: {
    per_process_memory_in_mb: number | null;
    total_memory_in_mb: number | null;
    total_instances: number | null;
    per_app_tasks: number | null;
    log_rate_limit_in_bytes_per_second: number | null;
  };
  services: { paid_services_allowed: boolean; total_service_instances: number | null; total_service_keys: number | null };
  routes: { total_routes: number | null; total_reserved_ports: number | null };
  domains: { total_domains: number | null };
}

export interface OrganizationQuota extends Resource, OrganizationQuotaLimits {
  name: string;
}

export interface SecurityGroupRule {
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  destination: string;
  ports?: string;
  type?: number;
  code?: number;
  description?: string;
  log?: boolean;
}

export interface SecurityGroup extends Resource {
  name: string;
  rules: SecurityGroupRule[];
  globallyEnabled: { running: boolean; staging: boolean };
  runningSpaceGuids: Set<string>;
  stagingSpaceGuids: Set<string>;
}

/** The `defaultQuota` knob: limits of the `default` quota, as an operator's `cc.quota_definitions.default` sets them. */
export interface QuotaLimits {
  totalMemoryInMb: number | null;
  perProcessMemoryInMb: number | null;
  totalAppInstances: number | null;
  totalRoutes: number | null;
}

export type RoleType = 'organization_user' | 'organization_manager' | 'space_developer' | 'space_manager' | 'space_auditor';

export interface Role extends Resource {
  type: RoleType;
  userGuid: string;
  /** The organization or space the role is in. */
  targetGuid: string;
}

export interface Space extends Resource {
  name: string;
  orgGuid: string;
}

export interface Domain extends Resource {
  name: string;
  internal: boolean;
  /** A TCP domain's router group (POST /v3/domains with router_group); unset for HTTP domains. */
  routerGroupGuid?: string | null;
  /** A private domain's owning organization; unset for shared domains. */
  organizationGuid?: string | null;
}

export interface Lifecycle {
  type: 'buildpack';
  data: { buildpacks: string[]; stack: string };
}

export interface App extends Resource {
  name: string;
  spaceGuid: string;
  state: 'STOPPED' | 'STARTED';
  lifecycle: Lifecycle;
  environmentVariables: Record<string, string>;
  currentDropletGuid: string | null;
  /** What each running instance reports in process stats (PUT /__sim/apps/:guid/usage); unset: an idle app. */
  usage?: AppUsage;
}

/** Per running instance: CPU in percent of one core (stats show cpu/100, as CC does), memory in bytes. */
export interface AppUsage {
  cpuPercent: number;
  memoryBytes: number;
}

export interface Process extends Resource {
  appGuid: string;
  type: string;
  command: string | null;
  instances: number;
  memoryInMb: number;
  diskInMb: number;
  logRateLimitInBytesPerSecond: number;
  /** CC's health check: `port` (the default for web), `process` or `http` (with an endpoint). */
  healthCheck: { type: 'port' | 'process' | 'http'; endpoint: string | null; timeout: number | null; invocationTimeout: number | null };
  /** While the app runs: when each instance (by index) turns from STARTING to RUNNING. */
  runningAt: number[];
}

export type PackageState = 'AWAITING_UPLOAD' | 'PROCESSING_UPLOAD' | 'READY' | 'FAILED' | 'EXPIRED';

export interface Package extends Resource {
  appGuid: string;
  type: 'bits';
  state: PackageState;
  checksum: string | null;
  sizeBytes: number;
  /** The uploaded bits, kept for staging. */
  bits: Buffer | null;
  /** Why processing the upload failed (CC's `data.error`). */
  error: string | null;
}

export interface Build extends Resource {
  appGuid: string;
  packageGuid: string;
  state: 'STAGING' | 'STAGED' | 'FAILED';
  dropletGuid: string | null;
  error: string | null;
  lifecycle: Lifecycle;
  createdBy: { guid: string; name: string; email: string };
}

export type DropletState = 'AWAITING_UPLOAD' | 'PROCESSING_UPLOAD' | 'STAGED' | 'COPYING' | 'FAILED' | 'EXPIRED';

export interface Droplet extends Resource {
  appGuid: string;
  state: DropletState;
  error: string | null;
  packageGuid: string | null;
  stack: string;
  buildpacks: string[];
  processTypes: Record<string, string>;
  checksum: string | null;
  /** What staging found (sim/cf/staging.ts): whether the web command listens on $PORT, and why it cannot start. */
  listensOnPort: boolean;
  startFailure: string | null;
}

export interface Destination {
  guid: string;
  appGuid: string;
  processType: string;
  port: number;
  protocol: string;
}

export interface Route extends Resource {
  host: string;
  path: string;
  domainGuid: string;
  spaceGuid: string;
  destinations: Destination[];
}

export interface JobError {
  code: number;
  title: string;
  detail: string;
}

export interface Job extends Resource {
  operation: string;
  state: 'PROCESSING' | 'COMPLETE' | 'FAILED';
  errors: JobError[];
}

/** A rolling deployment (CC's DeploymentModel): ACTIVE while instances are replaced, then FINALIZED. */
export interface Deployment extends Resource {
  appGuid: string;
  dropletGuid: string | null;
  previousDropletGuid: string | null;
  state: 'DEPLOYING' | 'DEPLOYED' | 'CANCELING' | 'CANCELED';
  statusValue: 'ACTIVE' | 'FINALIZED';
  statusReason: 'DEPLOYING' | 'CANCELING' | 'DEPLOYED' | 'CANCELED' | 'SUPERSEDED';
}

interface Transition {
  dueAt: number;
  seq: number;
  apply(at: number): void;
}

/** The quota every organization gets until another is applied to it. */
export const DEFAULT_QUOTA_GUID = '7e2a1bf6-0d4c-4c4b-9a1e-5b7f0a6c3d21';

/** CC's `default_quota_definition` (cloud_controller_ng config/cloud_controller.yml): 10 GB, 100 services, 1000 routes. */
export function defaultQuotaLimits(): OrganizationQuotaLimits {
  return {
    apps: { per_process_memory_in_mb: null, total_memory_in_mb: 10_240, total_instances: null, per_app_tasks: null, log_rate_limit_in_bytes_per_second: null },
    services: { paid_services_allowed: true, total_service_instances: 100, total_service_keys: null },
    routes: { total_routes: 1000, total_reserved_ports: null },
    domains: { total_domains: null },
  };
}

/** Sets the knob's limits on a quota (the `default` one). */
export function applyQuotaLimits(quota: OrganizationQuotaLimits, limits: Partial<QuotaLimits>): void {
  if (limits.totalMemoryInMb !== undefined) quota.apps.total_memory_in_mb = limits.totalMemoryInMb;
  if (limits.perProcessMemoryInMb !== undefined) quota.apps.per_process_memory_in_mb = limits.perProcessMemoryInMb;
  if (limits.totalAppInstances !== undefined) quota.apps.total_instances = limits.totalAppInstances;
  if (limits.totalRoutes !== undefined) quota.routes.total_routes = limits.totalRoutes;
}

/** cf-deployment's internal domain (cf-deployment.yml `cc.internal_domains`): never an apps domain. */
export const INTERNAL_DOMAIN = 'apps.internal';

export class SimState {
  readonly organizations = new Map<string, Organization>();
  readonly spaces = new Map<string, Space>();
  readonly domains = new Map<string, Domain>();
  readonly apps = new Map<string, App>();
  readonly processes = new Map<string, Process>();
  readonly packages = new Map<string, Package>();
  readonly builds = new Map<string, Build>();
  readonly droplets = new Map<string, Droplet>();
  readonly routes = new Map<string, Route>();
  readonly jobs = new Map<string, Job>();
  readonly deployments = new Map<string, Deployment>();
  readonly organizationQuotas = new Map<string, OrganizationQuota>();
  readonly securityGroups = new Map<string, SecurityGroup>();
  readonly roles = new Map<string, Role>();
  /** space guid + lower-cased name → app guid: names are unique per space, case-insensitively. */
  private readonly appNames = new Map<string, string>();
  private transitions: Transition[] = [];
  private seq = 0;

  constructor(
    private readonly now: () => number,
    appsDomain: string,
    defaultQuota: QuotaLimits,
  ) {
    const domain: Domain = { ...this.newResource(), name: appsDomain, internal: false };
    this.domains.set(domain.guid, domain);
    // cf-deployment also has the internal domain apps.internal (container-to-container, `internal: true`).
    if (appsDomain !== INTERNAL_DOMAIN) {
      const internal: Domain = { ...this.newResource(), name: INTERNAL_DOMAIN, internal: true };
      this.domains.set(internal.guid, internal);
    }
    const quota: OrganizationQuota = { ...this.newResource(), guid: DEFAULT_QUOTA_GUID, name: 'default', ...defaultQuotaLimits() };
    applyQuotaLimits(quota, defaultQuota);
    this.organizationQuotas.set(quota.guid, quota);
  }

  /** The quota applied to the organization (the default one unless another was applied). */
  quotaOf(orgGuid: string): OrganizationQuota {
    const org = this.organizations.get(orgGuid);
    return this.organizationQuotas.get(org?.quotaGuid ?? DEFAULT_QUOTA_GUID)!;

  }

  /** Memory (MB) and instances of the organization's started apps' processes, but for `exceptApp`'s. */
  usageOf(orgGuid: string, exceptApp?: string): { memoryInMb: number; instances: number } {
    const usage = { memoryInMb: 0, instances: 0 };
    for (const process of this.processes.values()) {
      const app = this.apps.get(process.appGuid);
      if (!app || app.guid === exceptApp || app.state !== 'STARTED' || this.spaces.get(app.spaceGuid)?.orgGuid !== orgGuid) continue;
      usage.memoryInMb += process.instances * process.memoryInMb;
      usage.instances += process.instances;
    }
    return usage;
  }

  hasRole(userGuid: string, type: RoleType, targetGuid: string): boolean {
    for (const role of this.roles.values()) if (role.userGuid === userGuid && role.type === type && role.targetGuid === targetGuid) return true;
    return false;
  }

  newResource(): Resource {
    const now = this.now();
    return { guid: randomUUID(), seq: ++this.seq, createdAt: now, updatedAt: now, metadata: { labels: {}, annotations: {} } };
  }

  /** Runs `apply` once `delayMs` have passed (at the first request handled after that). */
  schedule(delayMs: number, apply: (at: number) => void): void {
    const transition = { dueAt: this.now() + delayMs, seq: ++this.seq, apply };
    const index = this.transitions.findIndex((t) => t.dueAt > transition.dueAt);
    if (index < 0) this.transitions.push(transition);
    else this.transitions.splice(index, 0, transition);
  }

  /** Applies every transition due by `now`, oldest first. */
  settle(now: number): void {
    while (this.transitions.length > 0 && this.transitions[0]!.dueAt <= now) {
      const transition = this.transitions.shift()!;
      transition.apply(transition.dueAt);
    }
  }

  /** Starts an asynchronous job (CC's delete jobs): PROCESSING, then COMPLETE after `work`, or FAILED. */
  startJob(operation: string, delayMs: number, outcome: { work: () => void } | { failure: JobError }): Job {
    const job: Job = { ...this.newResource(), operation, state: 'PROCESSING', errors: [] };
    this.jobs.set(job.guid, job);
    this.schedule(delayMs, (at) => {
      if ('failure' in outcome) {
        job.state = 'FAILED';
        job.errors = [outcome.failure];
      } else {
        outcome.work();
        job.state = 'COMPLETE';
      }
      job.updatedAt = at;
    });
    return job;
  }

  appNamed(spaceGuid: string, name: string): App | undefined {
    const guid = this.appNames.get(`${spaceGuid}/${name.toLowerCase()}`);
    return guid === undefined ? undefined : this.apps.get(guid);
  }

  addApp(app: App): void {
    this.apps.set(app.guid, app);
    this.appNames.set(`${app.spaceGuid}/${app.name.toLowerCase()}`, app.guid);
  }

  renameApp(app: App, name: string): void {
    this.appNames.delete(`${app.spaceGuid}/${app.name.toLowerCase()}`);
    app.name = name;
    this.appNames.set(`${app.spaceGuid}/${name.toLowerCase()}`, app.guid);
  }

  spaceOfApp(appGuid: string): Space | undefined {
    const app = this.apps.get(appGuid);
    return app && this.spaces.get(app.spaceGuid);
  }

  /** Like CC's AppDelete: the app's processes, packages, builds, droplets and route destinations go with it. */
  deleteApp(guid: string): void {
    const app = this.apps.get(guid);
    if (!app) return;
    this.apps.delete(guid);
    this.appNames.delete(`${app.spaceGuid}/${app.name.toLowerCase()}`);
    for (const map of [this.processes, this.packages, this.builds, this.droplets, this.deployments] as Map<string, { appGuid: string }>[]) {
      for (const [key, item] of map) if (item.appGuid === guid) map.delete(key);
    }
    for (const route of this.routes.values()) route.destinations = route.destinations.filter((d) => d.appGuid !== guid);
  }

  deleteRoute(guid: string): void {
    this.routes.delete(guid);
  }

  /** An app whose current droplet is deleted keeps running but has no current droplet (CC nulls droplet_guid). */
  deleteDroplet(guid: string): void {
    if (!this.droplets.delete(guid)) return;
    for (const app of this.apps.values()) if (app.currentDropletGuid === guid) app.currentDropletGuid = null;
  }

  /** v3 space deletes are recursive: apps and routes in the space are deleted with it. */
  deleteSpace(guid: string): void {
    for (const app of [...this.apps.values()]) if (app.spaceGuid === guid) this.deleteApp(app.guid);
    for (const route of [...this.routes.values()]) if (route.spaceGuid === guid) this.deleteRoute(route.guid);
    for (const group of this.securityGroups.values()) {
      group.runningSpaceGuids.delete(guid);
      group.stagingSpaceGuids.delete(guid);
    }
    this.spaces.delete(guid);
  }

  /** v3 organization deletes are recursive: every space, with its contents. */
  deleteOrganization(guid: string): void {
    for (const space of [...this.spaces.values()]) if (space.orgGuid === guid) this.deleteSpace(space.guid);
    this.organizations.delete(guid);
  }
}

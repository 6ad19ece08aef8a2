// JSON exactly as the CC v3 presenters render it (app/presenters/v3/*), with absolute links built
// from the base URL the client used.
import { ccTimestamp } from './clock.ts';
import {
  DEFAULT_QUOTA_GUID,
  type App,
  type AppUsage,
  type Build,
  type Destination,
  type Domain,
  type Droplet,
  type Job,
  type Organization,
  type Package,
  type Process,
  type Route,
  type SimState,
  type Space,
} from './state.ts';

const href = (base: string, path: string) => ({ href: `${base}${path}` });
const times = (r: { createdAt: number; updatedAt: number }) => ({ created_at: ccTimestamp(r.createdAt), updated_at: ccTimestamp(r.updatedAt) });
const metadata = (r: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } }) => ({
  labels: { ...r.metadata.labels },
  annotations: { ...r.metadata.annotations },
});
const toOne = (guid: string | null) => ({ data: guid ? { guid } : null });

export function presentOrganization(org: Organization, base: string) {
  return {
    guid: org.guid,
    ...times(org),
    name: org.name,
    suspended: org.suspended,
    relationships: { quota: toOne(org.quotaGuid ?? DEFAULT_QUOTA_GUID) },
    metadata: metadata(org),
    links: {
      self: href(base, `/v3/organizations/${org.guid}`),
      domains: href(base, `/v3/organizations/${org.guid}/domains`),
      default_domain: href(base, `/v3/organizations/${org.guid}/domains/default`),
      quota: href(base, `/v3/organization_quotas/${org.quotaGuid ?? DEFAULT_QUOTA_GUID}`),
    },
  };
}

export function presentSpace(space: Space, base: string) {
  return {
    guid: space.guid,
    ...times(space),
    name: space.name,
    relationships: { organization: toOne(space.orgGuid), quota: toOne(null) },
    metadata: metadata(space),
    links: {
      self: href(base, `/v3/spaces/${space.guid}`),
      features: href(base, `/v3/spaces/${space.guid}/features`),
      organization: href(base, `/v3/organizations/${space.orgGuid}`),
      apply_manifest: { ...href(base, `/v3/spaces/${space.guid}/actions/apply_manifest`), method: 'POST' },
    },
  };
}

export function presentDomain(domain: Domain, base: string) {
  return {
    guid: domain.guid,
    ...times(domain),
    name: domain.name,
    internal: domain.internal,
    router_group: domain.routerGroupGuid ? { guid: domain.routerGroupGuid } : null,
    supported_protocols: domain.routerGroupGuid ? ['tcp'] : ['http'],
    relationships: { organization: toOne(domain.organizationGuid ?? null), shared_organizations: { data: [] } },
    metadata: metadata(domain),
    links: {
      self: href(base, `/v3/domains/${domain.guid}`),
      route_reservations: href(base, `/v3/domains/${domain.guid}/route_reservations`),
    },
  };
}

export function presentApp(app: App, base: string) {
  const self = `/v3/apps/${app.guid}`;
  return {
    guid: app.guid,
    ...times(app),
    name: app.name,
    state: app.state,
    lifecycle: { type: app.lifecycle.type, data: { buildpacks: [...app.lifecycle.data.buildpacks], stack: app.lifecycle.data.stack } },
    // CC renders a missing current droplet as {data:{guid:null}} (app_presenter.rb), unlike other to-one relationships.
    relationships: { space: toOne(app.spaceGuid), current_droplet: { data: { guid: app.currentDropletGuid } } },
    metadata: metadata(app),
    links: {
      self: href(base, self),
      environment_variables: href(base, `${self}/environment_variables`),
      space: href(base, `/v3/spaces/${app.spaceGuid}`),
      processes: href(base, `${self}/processes`),
      packages: href(base, `${self}/packages`),
      current_droplet: href(base, `${self}/droplets/current`),
      droplets: href(base, `${self}/droplets`),
      tasks: href(base, `${self}/tasks`),
      start: { ...href(base, `${self}/actions/start`), method: 'POST' },
      stop: { ...href(base, `${self}/actions/stop`), method: 'POST' },
      revisions: href(base, `${self}/revisions`),
      deployed_revisions: href(base, `${self}/revisions/deployed`),
      features: href(base, `${self}/features`),
    },
  };
}

export function presentProcess(process: Process, spaceGuid: string, base: string) {
  const self = `/v3/processes/${process.guid}`;
  return {
    guid: process.guid,
    ...times(process),
    type: process.type,
    command: process.command,
    instances: process.instances,
    memory_in_mb: process.memoryInMb,
    disk_in_mb: process.diskInMb,
    log_rate_limit_in_bytes_per_second: process.logRateLimitInBytesPerSecond,
    health_check: {
      type: process.healthCheck.type,
      data: {
        timeout: process.healthCheck.timeout,
        invocation_timeout: process.healthCheck.invocationTimeout,
        interval: null,
        ...(process.healthCheck.type === 'http' ? { endpoint: process.healthCheck.endpoint } : {}),
      },
    },
    readiness_health_check: { type: 'process', data: { invocation_timeout: null, interval: null } },
    relationships: { app: toOne(process.appGuid), revision: toOne(null) },
    metadata: metadata(process),
    version: process.guid,
    links: {
      self: href(base, self),
      scale: { ...href(base, `${self}/actions/scale`), method: 'POST' },
      app: href(base, `/v3/apps/${process.appGuid}`),
      space: href(base, `/v3/spaces/${spaceGuid}`),
      stats: href(base, `${self}/stats`),
    },
  };
}

const IDLE_USAGE: AppUsage = { cpuPercent: 0.1, memoryBytes: 24 * 1024 * 1024 };

/**
 * One stats entry per desired instance: DOWN while the app is stopped, STARTING until its start
 * delay passes, then RUNNING, or CRASHED with Diego's reason in `details` when `crash` says why.
 */
export function presentProcessStats(process: Process, appStarted: boolean, now: number, usage: AppUsage = IDLE_USAGE, crash: string | null = null) {
  return {
    resources: Array.from({ length: process.instances }, (_, index) => {
      const runningAt = process.runningAt[index];
      const state = !appStarted || runningAt === undefined ? 'DOWN' : now < runningAt ? 'STARTING' : crash ? 'CRASHED' : 'RUNNING';
      const running = state === 'RUNNING';
      return {
        type: process.type,
        index,
        state,
        routable: running,
        usage: running ? { time: new Date(now).toISOString(), cpu: usage.cpuPercent / 100, mem: usage.memoryBytes, disk: 64 * 1024 * 1024, log_rate: 0 } : {},
        host: state === 'DOWN' ? '' : `10.0.${Math.floor(index / 250)}.${(index % 250) + 2}`,
        instance_ports: state === 'DOWN' ? [] : [{ external: 61000 + index, internal: 8080, external_tls_proxy_port: 61443, internal_tls_proxy_port: 61001 }],
        uptime: running ? Math.floor((now - runningAt!) / 1000) : 0,
        mem_quota: process.memoryInMb * 1024 * 1024,
        disk_quota: process.diskInMb * 1024 * 1024,
        log_rate_limit: process.logRateLimitInBytesPerSecond,
        fds_quota: 16384,
        isolation_segment: null,
        details: state === 'CRASHED' ? crash : null,
      };
    }),
  };
}

export function presentPackage(pkg: Package, base: string) {
  const self = `/v3/packages/${pkg.guid}`;
  return {
    guid: pkg.guid,
    ...times(pkg),
    type: pkg.type,
    data: { checksum: { type: 'sha256', value: pkg.checksum }, error: pkg.error },
    state: pkg.state,
    relationships: { app: toOne(pkg.appGuid) },
    metadata: metadata(pkg),
    links: {
      self: href(base, self),
      upload: { ...href(base, `${self}/upload`), method: 'POST' },
      download: { ...href(base, `${self}/download`), method: 'GET' },
      app: href(base, `/v3/apps/${pkg.appGuid}`),
    },
  };
}

export function presentBuild(build: Build, base: string) {
  return {
    guid: build.guid,
    ...times(build),
    created_by: build.createdBy,
    state: build.state,
    staging_memory_in_mb: 1024,
    staging_disk_in_mb: 1024,
    staging_log_rate_limit_bytes_per_second: -1,
    error: build.error,
    lifecycle: { type: build.lifecycle.type, data: { buildpacks: [...build.lifecycle.data.buildpacks], stack: build.lifecycle.data.stack } },
    package: { guid: build.packageGuid },
    droplet: build.dropletGuid ? { guid: build.dropletGuid } : null,
    relationships: { app: toOne(build.appGuid) },
    metadata: metadata(build),
    links: {
      self: href(base, `/v3/builds/${build.guid}`),
      app: href(base, `/v3/apps/${build.appGuid}`),
      ...(build.dropletGuid ? { droplet: href(base, `/v3/droplets/${build.dropletGuid}`) } : {}),
    },
  };
}

export function presentDroplet(droplet: Droplet, base: string) {
  const staged = droplet.state === 'STAGED';
  return {
    guid: droplet.guid,
    ...times(droplet),
    state: droplet.state,
    error: droplet.error,
    lifecycle: { type: 'buildpack', data: {} },
    execution_metadata: '',
    process_types: staged ? { ...droplet.processTypes } : null,
    checksum: staged && droplet.checksum ? { type: 'sha256', value: droplet.checksum } : null,
    buildpacks: staged ? droplet.buildpacks.map((name) => ({ name, detect_output: name, buildpack_name: name, version: '1.0.0' })) : null,
    stack: staged ? droplet.stack : null,
    image: null,
    relationships: { app: toOne(droplet.appGuid) },
    metadata: metadata(droplet),
    links: {
      self: href(base, `/v3/droplets/${droplet.guid}`),
      ...(droplet.packageGuid ? { package: href(base, `/v3/packages/${droplet.packageGuid}`) } : {}),
      app: href(base, `/v3/apps/${droplet.appGuid}`),
      assign_current_droplet: { ...href(base, `/v3/apps/${droplet.appGuid}/relationships/current_droplet`), method: 'PATCH' },
      download: href(base, `/v3/droplets/${droplet.guid}/download`),
    },
  };
}

function presentDestination(destination: Destination) {
  return {
    guid: destination.guid,
    app: { guid: destination.appGuid, process: { type: destination.processType } },
    weight: null,
    port: destination.port,
    protocol: destination.protocol,
  };
}

export function presentRoute(route: Route, state: SimState, base: string) {
  const domain = state.domains.get(route.domainGuid);
  return {
    guid: route.guid,
    ...times(route),
    protocol: 'http',
    host: route.host,
    path: route.path,
    port: null,
    url: `${route.host ? `${route.host}.` : ''}${domain?.name ?? ''}${route.path}`,
    destinations: route.destinations.map(presentDestination),
    options: {},
    relationships: { space: toOne(route.spaceGuid), domain: toOne(route.domainGuid) },
    metadata: metadata(route),
    links: {
      self: href(base, `/v3/routes/${route.guid}`),
      space: href(base, `/v3/spaces/${route.spaceGuid}`),
      domain: href(base, `/v3/domains/${route.domainGuid}`),
      destinations: href(base, `/v3/routes/${route.guid}/destinations`),
    },
  };
}

export function presentDestinations(route: Route, base: string) {
  return {
    destinations: route.destinations.map(presentDestination),
    links: { self: href(base, `/v3/routes/${route.guid}/destinations`), route: href(base, `/v3/routes/${route.guid}`) },
  };
}

export function presentJob(job: Job, base: string) {
  return {
    guid: job.guid,
    ...times(job),
    operation: job.operation,
    state: job.state,
    errors: job.errors.map((e) => ({ ...e })),
    warnings: [],
    links: { self: href(base, `/v3/jobs/${job.guid}`) },
  };
}

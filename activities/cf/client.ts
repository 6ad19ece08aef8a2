// A thin typed client for the Cloud Controller v3 API and its UAA, written against CF's own docs so
// the same code runs against a real foundation and the simulator in sim/cf. No maintained Node v3
// client exists. Tokens come from the `login` link of `GET /`, are refreshed before expiry, and
// never leave this module: the bearer token goes to the API's own origin only (urls.ts), and no
// redirect is followed.
import { loginBase, onApiOrigin, toQueryString, type Query } from './urls.ts';

export { CfForeignOriginError, type Query } from './urls.ts';

/** One entry of the v3 error envelope `{"errors":[{code,title,detail}]}`. */
export class CfApiError extends Error {
  override name = 'CfApiError';
  constructor(
    readonly status: number,
    readonly code: number,
    readonly title: string,
    readonly detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${title} (${code}, HTTP ${status}): ${detail}`);
  }

  /** Worth retrying: rate limits and server faults. A 4xx is a fact about the request. */
  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

export type CfCredentials =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'client'; clientId: string; clientSecret: string };

export interface CfClientOptions {
  apiUrl: string;
  credentials: CfCredentials;
  /** Refresh the token when it expires within this margin (the cf CLI uses one minute). */
  refreshMarginMs?: number;
  /** How often a 429 is waited out (honouring Retry-After) before it is thrown. */
  maxRateLimitWaits?: number;
  /** Longest wait for one Retry-After, so a misbehaving server cannot park a worker for an hour. */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Shared by the clients of one foundation, so each activity does not log in again. */
  session?: CfSession;
}

/** The login link and token of a foundation, shared across clients (it never leaves the worker). */
export interface CfSession {
  loginUrl?: string;
  token?: Token;
  pendingToken?: Promise<Token>;
}

export interface Link {
  href: string;
  method?: string;
}

export interface Relationship {
  data: { guid: string } | null;
}

export interface CfResource {
  guid: string;
  created_at: string;
  updated_at: string;
  links: Record<string, Link>;
}

export interface Organization extends CfResource {
  name: string;
}

export interface Space extends CfResource {
  name: string;
  relationships: { organization: Relationship };
}

export interface Domain extends CfResource {
  name: string;
  internal: boolean;
  /** Set for a TCP domain (routes need ports there): never the apps' default. */
  router_group?: { guid: string } | null;
  relationships: { organization: Relationship };
}

export interface Metadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface App extends CfResource {
  name: string;
  state: 'STOPPED' | 'STARTED';
  metadata?: Metadata;
  relationships: { space: Relationship; current_droplet?: Relationship };
}

export interface Process extends CfResource {
  type: string;
  instances: number;
  memory_in_mb: number;
  disk_in_mb?: number;
  health_check?: { type: 'port' | 'process' | 'http'; data: { endpoint?: string | null } };
}

/** What an app's web process runs with (memory and disk through scale, the health check through update). */
export interface ProcessSettings {
  memory_in_mb?: number;
  disk_in_mb?: number;
  health_check?: { type: 'port' | 'process' | 'http'; endpoint?: string };
}

/** The buildpack lifecycle an app is created with: no buildpacks means CC auto-detects. */
export interface Lifecycle {
  buildpacks: string[];
  stack?: string;
}

export interface ProcessStats {
  type: string;
  index: number;
  state: 'RUNNING' | 'CRASHED' | 'STARTING' | 'STOPPING' | 'DOWN';
  /** A running instance's usage: `cpu` as a fraction of one core (0.25 is 25 %), `mem` and `disk` in bytes; `{}` otherwise. */
  usage?: { time?: string; cpu?: number; mem?: number; disk?: number };
  /** Diego's reason for a CRASHED or DOWN instance, when it gives one. */
  details?: string | null;
}

export interface Package extends CfResource {
  type: string;
  state: 'AWAITING_UPLOAD' | 'PROCESSING_UPLOAD' | 'READY' | 'FAILED' | 'COPYING' | 'EXPIRED';
  /** `error`: why processing the upload failed (CC's words). */
  data?: { error?: string | null };
}

export interface Build extends CfResource {
  state: 'STAGING' | 'STAGED' | 'FAILED';
  error: string | null;
  droplet: { guid: string } | null;
}

export interface Droplet extends CfResource {
  state: 'AWAITING_UPLOAD' | 'PROCESSING_UPLOAD' | 'STAGED' | 'COPYING' | 'FAILED' | 'EXPIRED';
  error: string | null;
  relationships?: { app: Relationship };
}

export interface Deployment extends CfResource {
  status: { value: 'ACTIVE' | 'FINALIZED'; reason: 'DEPLOYING' | 'CANCELING' | 'DEPLOYED' | 'CANCELED' | 'SUPERSEDED' | 'DEGENERATE' };
  strategy: string;
  droplet: { guid: string } | null;
  relationships: { app: Relationship };
}

export interface RouteDestination {
  guid: string;
  app: { guid: string; process?: { type: string } };
}

export interface Route extends CfResource {
  host: string;
  path: string;
  url: string;
  destinations: RouteDestination[];
  relationships: { domain: Relationship; space: Relationship };
}

export interface Job extends CfResource {
  operation: string;
  state: 'PROCESSING' | 'POLLING' | 'COMPLETE' | 'FAILED';
  errors: { code: number; title: string; detail: string }[];
}

export interface ToMany {
  data: { guid: string }[];
}

/** An organization quota's limits, as CC's v3 object names them (null: unlimited). */
export interface OrganizationQuotaLimits {
  apps?: { total_memory_in_mb?: number | null; per_process_memory_in_mb?: number | null; total_instances?: number | null };
  services?: { total_service_instances?: number | null };
  routes?: { total_routes?: number | null; total_reserved_ports?: number | null };
}

export interface OrganizationQuota extends CfResource, OrganizationQuotaLimits {
  name: string;
  relationships: { organizations: ToMany };
}

export interface SecurityGroupRule {
  protocol: string;
  destination: string;
  ports?: string;
  description?: string;
}

export interface SecurityGroup extends CfResource {
  name: string;
  rules: SecurityGroupRule[];
  relationships: { running_spaces: ToMany; staging_spaces: ToMany };
}

interface Paginated<T> {
  pagination: { total_results: number; total_pages: number; next: Link | null };
  resources: T[];
}

interface Token {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
}

/** Seconds until the JWT expires, from its `exp` claim (no signature check: we only schedule a refresh). */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: number };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seconds to wait before retrying. Cloud Controller 3.139+ sends Retry-After as delay-seconds
 * (middleware/base_rate_limiter.rb); older ones sent the Unix time of the reset there, so a number
 * past 1e9 is still read as a time. X-RateLimit-Reset is always the Unix time of the reset, the
 * fallback when Retry-After is missing; an HTTP date (RFC 9110) is taken too.
 */
export function retryAfterSeconds(headers: Headers, now = Date.now()): number | undefined {
  const untilEpoch = (epochSeconds: number) => Math.max(0, epochSeconds - now / 1000);
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const number = Number(retryAfter);
    if (Number.isFinite(number)) return number > 1e9 ? untilEpoch(number) : Math.max(0, number);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, (date - now) / 1000);
  }
  const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
  return Number.isFinite(reset) ? untilEpoch(reset) : undefined;
}

async function errorFrom(response: Response): Promise<CfApiError> {
  const retryAfter = retryAfterSeconds(response.headers);
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { errors?: { code: number; title: string; detail: string }[]; error?: string; error_description?: string };
    const first = body.errors?.[0];
    if (first) return new CfApiError(response.status, first.code, first.title, first.detail, retryAfter || undefined);
    if (body.error) return new CfApiError(response.status, 0, `UAA-${body.error}`, body.error_description ?? body.error, retryAfter || undefined);
  } catch {
    // not JSON (a proxy's error page): keep the text
  }
  return new CfApiError(response.status, 0, `HTTP-${response.status}`, text.slice(0, 200) || response.statusText, retryAfter || undefined);
}

export function createCfClient(options: CfClientOptions) {
  const apiUrl = options.apiUrl.replace(/\/$/, '');
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const refreshMarginMs = options.refreshMarginMs ?? 60_000;
  const maxRateLimitWaits = options.maxRateLimitWaits ?? 8;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const session: CfSession = options.session ?? {};
  /** What this client sent: every request, the mutating ones (not GET), 429s waited out, token grants. */
  const stats = { requests: 0, mutations: 0, rateLimited: 0, tokenRequests: 0 };

  async function discoverLogin(): Promise<string> {
    if (session.loginUrl) return session.loginUrl;
    const response = await doFetch(`${apiUrl}/`, { signal: options.signal, redirect: 'manual' });
    if (!response.ok) throw await errorFrom(response);
    const root = (await response.json()) as { links: { login?: Link; uaa?: Link } };
    // The cf CLI asks the `login` link for tokens, not `uaa`.
    const link = root.links.login ?? root.links.uaa;
    const login = link && loginBase(link.href);
    if (!login) throw new CfApiError(response.status, 0, 'CF-NoLoginLink', `${apiUrl}/ lists no http(s) login link`);
    session.loginUrl = login;
    return login;
  }

  async function requestToken(grant: Record<string, string>): Promise<Token> {
    stats.tokenRequests++;
    const url = `${await discoverLogin()}/oauth/token`;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (grant.grant_type !== 'client_credentials') headers.authorization = `Basic ${Buffer.from('cf:').toString('base64')}`;
    const response = await doFetch(url, { method: 'POST', headers, body: new URLSearchParams(grant).toString(), signal: options.signal, redirect: 'manual' });
    if (!response.ok) throw await errorFrom(response);
    const body = (await response.json()) as { access_token: string; refresh_token?: string; expires_in?: number };
    const expiresAt = jwtExpiry(body.access_token) ?? Date.now() + (body.expires_in ?? 600) * 1000;
    return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt };
  }

  function freshGrant(): Record<string, string> {
    const c = options.credentials;
    return c.kind === 'password'
      ? { grant_type: 'password', username: c.username, password: c.password }
      : { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret };
  }

  async function obtainToken(): Promise<Token> {
    const refreshToken = session.token?.refreshToken;
    if (refreshToken) {
      try {
        return await requestToken({ grant_type: 'refresh_token', refresh_token: refreshToken });
      } catch (error) {
        if (!(error instanceof CfApiError) || error.retryable) throw error;
        // a refused refresh token: fall back to the original grant
      }
    }
    return requestToken(freshGrant());
  }

  /** One token request at a time, however many calls need a token at once. */
  async function accessToken(forceRefresh = false): Promise<string> {
    const current = session.token;
    if (!forceRefresh && current && current.expiresAt - Date.now() > refreshMarginMs) return current.accessToken;
    session.pendingToken ??= obtainToken().finally(() => (session.pendingToken = undefined));
    session.token = await session.pendingToken;
    return session.token.accessToken;
  }

  /** Sends with the bearer token; `href` is an API path or a URL a response named (`source`), on the API's origin. */
  async function send(method: string, href: string, body: BodyInit | undefined, contentType: string | undefined, source = 'URL'): Promise<Response> {
    const url = onApiOrigin(apiUrl, href, source);
    const sendOnce = async (forceNewToken: boolean) => {
      const headers: Record<string, string> = { authorization: `bearer ${await accessToken(forceNewToken)}`, accept: 'application/json' };
      if (contentType) headers['content-type'] = contentType;
      stats.requests++;
      if (method !== 'GET') stats.mutations++;
      return doFetch(url, { method, headers, body, signal: options.signal, redirect: 'manual' });
    };
    let serverErrors = 0;
    for (let rateLimitWaits = 0; ; ) {
      let response = await sendOnce(false);
      if (response.status === 401) {
        // The token may have been revoked or expired early: get a new one once, then give up.
        await response.body?.cancel();
        response = await sendOnce(true);
      }
      if (response.status === 429 && rateLimitWaits < maxRateLimitWaits) {
        rateLimitWaits++;
        stats.rateLimited++;
        const error = await errorFrom(response);
        await sleep(Math.min(maxRetryAfterMs, Math.max(100, (error.retryAfterSeconds ?? 1) * 1000)));
        continue;
      }
      // Reads are safe to repeat: ride out a passing 5xx here. Writes go back to the caller,
      // which re-observes before trying again (a POST that failed may still have happened).
      if (response.status >= 500 && method === 'GET' && serverErrors < 3) {
        serverErrors++;
        await response.body?.cancel();
        await sleep(100 * 2 ** serverErrors);
        continue;
      }
      if (!response.ok) throw await errorFrom(response);
      return response;
    }
  }

  /** `path` is an API path (with `query`) or, with `source` naming where it came from, a URL a response named. */
  async function call<T>(method: string, path: string, init: { body?: unknown; query?: Query; source?: string } = {}): Promise<{ body: T; location: string | null; status: number }> {
    const href = init.source ? path : `${path}${toQueryString(init.query)}`;
    const response = await send(method, href, init.body === undefined ? undefined : JSON.stringify(init.body), init.body === undefined ? undefined : 'application/json', init.source);
    const text = await response.text();
    return { body: (text ? JSON.parse(text) : undefined) as T, location: response.headers.get('location'), status: response.status };
  }

  const get = async <T>(path: string, query?: Query) => (await call<T>('GET', path, { query })).body;
  /** GET of a URL a response named: refused (CfForeignOriginError) unless it is on the API's origin. */
  const follow = async <T>(href: string, source: string) => (await call<T>('GET', href, { source })).body;
  const post = async <T>(path: string, body?: unknown, query?: Query) => (await call<T>('POST', path, { body: body ?? {}, query })).body;

  /** Every resource of a list, following pagination.next (per_page 5000, CF's maximum). */
  async function listAll<T>(path: string, query: Query = {}): Promise<T[]> {
    const all: T[] = [];
    let page = await get<Paginated<T>>(path, { per_page: 5000, ...query });
    all.push(...page.resources);
    while (page.pagination.next) {
      page = await follow<Paginated<T>>(page.pagination.next.href, 'pagination.next');
      all.push(...page.resources);
    }
    return all;
  }

  async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, failed: (value: T) => string | undefined, poll: PollOptions): Promise<T> {
    const deadline = Date.now() + (poll.timeoutMs ?? 300_000);
    let interval = poll.intervalMs ?? 500;
    for (;;) {
      const value = await read();
      const failure = failed(value);
      if (failure) throw new CfApiError(422, 0, 'CF-AsyncFailed', `${what} failed: ${failure}`);
      if (done(value)) return value;
      if (Date.now() > deadline) throw new CfApiError(504, 0, 'CF-AsyncTimeout', `${what} did not finish within ${(poll.timeoutMs ?? 300_000) / 1000} s`);
      await sleep(interval);
      interval = Math.min(interval * 1.5, poll.maxIntervalMs ?? 5000);
    }
  }

  /** Follows a job's Location until COMPLETE; FAILED becomes an error with the job's own message. */
  async function waitForJob(location: string, poll: PollOptions = {}): Promise<Job> {
    return waitFor(
      `job ${location}`,
      () => follow<Job>(location, 'job Location'),
      (job) => job.state === 'COMPLETE',
      (job) => (job.state === 'FAILED' ? (job.errors.map((e) => `${e.title}: ${e.detail}`).join('; ') || 'unknown error') : undefined),
      poll,
    );
  }

  const getPackage = (guid: string) => get<Package>(`/v3/packages/${guid}`);
  const getDroplet = (guid: string) => get<Droplet>(`/v3/droplets/${guid}`);

  async function deleteAndWait(path: string, poll?: PollOptions): Promise<void> {
    const { location } = await call<undefined>('DELETE', path);
    if (location) await waitForJob(location, poll);
  }

  const client = {
    stats,
    apiUrl,
    listAll,
    waitForJob,

    async findOrganization(name: string): Promise<Organization | undefined> {
      return (await listAll<Organization>('/v3/organizations', { names: name }))[0];
    },
    createOrganization: (name: string) => post<Organization>('/v3/organizations', { name }),

    async findSpace(organizationGuid: string, name: string): Promise<Space | undefined> {
      return (await listAll<Space>('/v3/spaces', { names: name, organization_guids: organizationGuid }))[0];
    },
    createSpace: (organizationGuid: string, name: string) =>
      post<Space>('/v3/spaces', { name, relationships: { organization: { data: { guid: organizationGuid } } } }),

    /** The named domain, or the first shared HTTP domain (what CC's default domain is when no organization is known yet). */
    async findDomain(name?: string): Promise<Domain | undefined> {
      const domains = await listAll<Domain>('/v3/domains', name ? { names: name } : {});
      return name ? domains[0] : domains.find((d) => d.relationships.organization.data === null && !d.internal && !d.router_group);
    },
    /** The organization's default domain as CC chooses it: the oldest shared HTTP domain, else its first private one (Organization#default_domain). */
    async defaultDomain(organizationGuid: string): Promise<Domain | undefined> {
      try {
        return await get<Domain>(`/v3/organizations/${organizationGuid}/domains/default`);
      } catch (error) {
        if (error instanceof CfApiError && error.status === 404 && /domain/i.test(error.detail)) return undefined;
        throw error;
      }
    },

    /** A space's apps; `labelSelector` as CC takes it (`key=value`, `key!=value`, `key in (a,b)`, `!key`, comma for AND). */
    listApps: (spaceGuid: string, labelSelector?: string) => listAll<App>('/v3/apps', { space_guids: spaceGuid, label_selector: labelSelector }),
    async findApp(spaceGuid: string, name: string): Promise<App | undefined> {
      return (await listAll<App>('/v3/apps', { space_guids: spaceGuid, names: name }))[0];
    },
    /** An app by its organization's, space's and own names; when one of them is missing, which (`no space prod in demo`). */
    async findAppByNames(names: { org: string; space: string; app: string }): Promise<{ app: App } | { missing: string }> {
      const org = await client.findOrganization(names.org);
      if (!org) return { missing: `no organization ${names.org}` };
      const space = await client.findSpace(org.guid, names.space);
      if (!space) return { missing: `no space ${names.space} in ${names.org}` };
      const app = await client.findApp(space.guid, names.app);
      return app ? { app } : { missing: `no app ${names.app} in ${names.org}/${names.space}` };
    },
    /** Without a lifecycle CC auto-detects the buildpack (and binary_buildpack never detects: name it). */
    createApp: (spaceGuid: string, name: string, environment: Record<string, string> = {}, metadata?: Partial<Metadata>, lifecycle?: Lifecycle) =>
      post<App>('/v3/apps', {
        name,
        relationships: { space: { data: { guid: spaceGuid } } },
        environment_variables: environment,
        ...(metadata ? { metadata } : {}),
        ...(lifecycle ? { lifecycle: { type: 'buildpack', data: { buildpacks: lifecycle.buildpacks, ...(lifecycle.stack ? { stack: lifecycle.stack } : {}) } } } : {}),
      }),
    /** Sets the given labels and annotations (others are kept; a null value removes one). */
    updateAppMetadata: async (appGuid: string, metadata: Partial<Metadata>) => (await call<App>('PATCH', `/v3/apps/${appGuid}`, { body: { metadata } })).body,
    /** Makes the app's environment variables exactly `environment` (the ones not named are removed). */
    environmentVariables: async (appGuid: string) => (await get<{ var: Record<string, string> }>(`/v3/apps/${appGuid}/environment_variables`)).var,
    async replaceEnvironment(appGuid: string, environment: Record<string, string>): Promise<void> {
      const current = await client.environmentVariables(appGuid);
      const removed = Object.fromEntries(Object.keys(current).filter((name) => !Object.hasOwn(environment, name)).map((name) => [name, null]));
      await call('PATCH', `/v3/apps/${appGuid}/environment_variables`, { body: { var: { ...removed, ...environment } } });
    },
    /** A rolling deployment of `dropletGuid` (default: the current droplet, restarted with the current environment). */
    createDeployment: (appGuid: string, dropletGuid?: string) =>
      post<Deployment>('/v3/deployments', { ...(dropletGuid ? { droplet: { guid: dropletGuid } } : {}), strategy: 'rolling', relationships: { app: { data: { guid: appGuid } } } }),
    /** Waits until the deployment is FINALIZED; any reason but DEPLOYED (CANCELED, SUPERSEDED, DEGENERATE) is an error. */
    waitForDeployment: (guid: string, poll: PollOptions = {}) =>
      waitFor(
        `deployment ${guid}`,
        () => get<Deployment>(`/v3/deployments/${guid}`),
        (d) => d.status.value === 'FINALIZED',
        (d) => (d.status.value === 'FINALIZED' && d.status.reason !== 'DEPLOYED' ? `ended ${d.status.reason}` : undefined),
        poll,
      ),
    deleteApp: (appGuid: string, poll?: PollOptions) => deleteAndWait(`/v3/apps/${appGuid}`, poll),
    async appEnvironmentVariables(appGuid: string): Promise<Record<string, string>> {
      return (await get<{ var: Record<string, string> }>(`/v3/apps/${appGuid}/environment_variables`)).var;
    },
    startApp: (appGuid: string) => post<App>(`/v3/apps/${appGuid}/actions/start`),
    async currentDropletGuid(appGuid: string): Promise<string | undefined> {
      try {
        return (await get<Relationship>(`/v3/apps/${appGuid}/relationships/current_droplet`)).data?.guid;
      } catch (error) {
        // CC answers 404 "Droplet not found" for an app without a current droplet.
        if (error instanceof CfApiError && error.status === 404 && /droplet/i.test(error.detail)) return undefined;
        throw error;
      }
    },
    setCurrentDroplet: async (appGuid: string, dropletGuid: string) =>
      (await call<Relationship>('PATCH', `/v3/apps/${appGuid}/relationships/current_droplet`, { body: { data: { guid: dropletGuid } } })).body,

    /** Web processes of the given apps (one list call per 5000 apps). */
    listWebProcesses: (appGuids: string[]) => listAll<Process & { relationships: { app: Relationship } }>('/v3/processes', { app_guids: appGuids, types: 'web' }),
    scaleWeb: (appGuid: string, instances: number, resources: Pick<ProcessSettings, 'memory_in_mb' | 'disk_in_mb'> = {}) =>
      post<Process>(`/v3/apps/${appGuid}/processes/web/actions/scale`, { instances, ...resources }),
    /** Sets the web process's health check (`process` for apps that listen on no port). */
    setWebHealthCheck: async (appGuid: string, check: NonNullable<ProcessSettings['health_check']>) =>
      (
        await call<Process>('PATCH', `/v3/apps/${appGuid}/processes/web`, {
          body: { health_check: { type: check.type, ...(check.type === 'http' ? { data: { endpoint: check.endpoint ?? '/' } } : {}) } },
        })
      ).body,
    async webStats(appGuid: string): Promise<ProcessStats[]> {
      return (await get<{ resources: ProcessStats[] }>(`/v3/apps/${appGuid}/processes/web/stats`)).resources;
    },

    createPackage: (appGuid: string) => post<Package>('/v3/packages', { type: 'bits', relationships: { app: { data: { guid: appGuid } } } }),
    async uploadBits(packageGuid: string, zip: Uint8Array<ArrayBuffer>): Promise<Package> {
      const form = new FormData();
      form.set('bits', new Blob([zip], { type: 'application/zip' }), 'app.zip');
      form.set('resources', '[]');
      const response = await send('POST', `/v3/packages/${packageGuid}/upload`, form, undefined);
      const pkg = (await response.json()) as Package;
      if (pkg.state === 'FAILED') throw new CfApiError(422, 0, 'CF-PackageFailed', `package ${packageGuid} failed: ${pkg.data?.error ?? 'no reason given'}`);
      return pkg;
    },
    /** The app's builds in the given states, newest first (a retry's way to find a build whose answer was lost). */
    appBuilds: (appGuid: string, states: Build['state'][]) => listAll<Build>(`/v3/apps/${appGuid}/builds`, { states: states.join(','), order_by: '-created_at' }),
    /** The app's droplets in the given states, newest first. */
    appDroplets: (appGuid: string, states: Droplet['state'][]) => listAll<Droplet>(`/v3/apps/${appGuid}/droplets`, { states: states.join(','), order_by: '-created_at' }),
    createBuild: (packageGuid: string) => post<Build>('/v3/builds', { package: { guid: packageGuid } }),
    waitForPackageReady: (guid: string, poll: PollOptions = {}) =>
      waitFor(`package ${guid}`, () => getPackage(guid), (p) => p.state === 'READY', (p) => (p.state === 'FAILED' || p.state === 'EXPIRED' ? (p.data?.error ?? p.state) : undefined), poll),
    waitForBuild: (guid: string, poll: PollOptions = {}) =>
      waitFor(`build ${guid}`, () => get<Build>(`/v3/builds/${guid}`), (b) => b.state === 'STAGED', (b) => (b.state === 'FAILED' ? (b.error ?? 'staging failed') : undefined), poll),

    getPackage,
    getDroplet,
    copyDroplet: (sourceDropletGuid: string, appGuid: string) =>
      post<Droplet>('/v3/droplets', { relationships: { app: { data: { guid: appGuid } } } }, { source_guid: sourceDropletGuid }),
    waitForDroplet: (guid: string, poll: PollOptions = {}) =>
      waitFor(`droplet ${guid}`, () => getDroplet(guid), (d) => d.state === 'STAGED', (d) => (d.state === 'FAILED' || d.state === 'EXPIRED' ? (d.error ?? d.state) : undefined), poll),

    listRoutes: (spaceGuid: string) => listAll<Route>('/v3/routes', { space_guids: spaceGuid }),
    async findRoute(domainGuid: string, host: string): Promise<Route | undefined> {
      return (await listAll<Route>('/v3/routes', { hosts: host, domain_guids: domainGuid }))[0];
    },
    createRoute: (spaceGuid: string, domainGuid: string, host: string) =>
      post<Route>('/v3/routes', { host, relationships: { domain: { data: { guid: domainGuid } }, space: { data: { guid: spaceGuid } } } }),
    /** Adding a destination that exists is a no-op in CF, so this is safe to retry. */
    addDestination: (routeGuid: string, appGuid: string) =>
      post<{ destinations: RouteDestination[] }>(`/v3/routes/${routeGuid}/destinations`, { destinations: [{ app: { guid: appGuid, process: { type: 'web' } } }] }),
    deleteRoute: (routeGuid: string, poll?: PollOptions) => deleteAndWait(`/v3/routes/${routeGuid}`, poll),

    async findOrganizationQuota(name: string): Promise<OrganizationQuota | undefined> {
      return (await listAll<OrganizationQuota>('/v3/organization_quotas', { names: name }))[0];
    },
    createOrganizationQuota: (name: string, limits: OrganizationQuotaLimits) => post<OrganizationQuota>('/v3/organization_quotas', { name, ...limits }),
    /** PATCH: only the limits sent change. */
    updateOrganizationQuota: async (guid: string, limits: OrganizationQuotaLimits) =>
      (await call<OrganizationQuota>('PATCH', `/v3/organization_quotas/${guid}`, { body: limits })).body,
    applyOrganizationQuota: (quotaGuid: string, organizationGuid: string) =>
      post<ToMany>(`/v3/organization_quotas/${quotaGuid}/relationships/organizations`, { data: [{ guid: organizationGuid }] }),

    async findSecurityGroup(name: string): Promise<SecurityGroup | undefined> {
      return (await listAll<SecurityGroup>('/v3/security_groups', { names: name }))[0];
    },
    createSecurityGroup: (name: string, rules: SecurityGroupRule[]) => post<SecurityGroup>('/v3/security_groups', { name, rules }),
    updateSecurityGroupRules: async (guid: string, rules: SecurityGroupRule[]) =>
      (await call<SecurityGroup>('PATCH', `/v3/security_groups/${guid}`, { body: { rules } })).body,
    /** Running apps of the space get the group's rules (after a restart, on real CF). */
    bindRunningSecurityGroup: (groupGuid: string, spaceGuid: string) =>
      post<ToMany>(`/v3/security_groups/${groupGuid}/relationships/running_spaces`, { data: [{ guid: spaceGuid }] }),
  };
  return client;
}

export interface PollOptions {
  intervalMs?: number;
  maxIntervalMs?: number;
  timeoutMs?: number;
}

export type CfClient = ReturnType<typeof createCfClient>;

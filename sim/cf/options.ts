// Every knob of the simulator, its default, and the runtime patch accepted by PUT /__sim/config.
import { z } from 'zod';
import type { SimClock } from './clock.ts';
import type { QuotaLimits } from './state.ts';

export interface SimFaults {
  /** Probability that a CC request is answered 502 or 503 before it is processed. */
  serverErrorRate: number;
  /** Probability that a mutating CC request is applied but its answer is lost (502): retries must be idempotent. */
  lostResponseRate: number;
  /** Probability that a droplet copy ends FAILED ("failed to copy - …"). */
  copyFailureRate: number;
  /** The next N droplet copies fail, whatever the rate. */
  failNextCopies: number;
  /** Probability that an asynchronous job (deletes) ends FAILED. */
  jobFailureRate: number;
  /** The next N jobs fail, whatever the rate. */
  failNextJobs: number;
}

/** Links on another origin than the one the client used, as a misconfigured or hostile server would write them. */
export interface SimForeignLinks {
  /** Scheme, host and port the links name (the default never resolves: `.invalid`). */
  origin: string;
  /** Every list's `pagination` links (`first`, `last`, `next`, `previous`). */
  pagination: boolean;
  /** The `Location` of a 202 (the job of an asynchronous delete). */
  jobLocation: boolean;
}

export interface SimKnobs {
  /** Added to every CC and UAA request (not to /__sim). */
  latencyMs: number;
  /** Requests per user per window; limit 0 turns rate limiting (and its headers) off. */
  rateLimit: { limit: number; windowSeconds: number };
  /**
   * CC 3.139+ sends Retry-After as seconds to wait (middleware/base_rate_limiter.rb); 'reset-epoch'
   * sends the Unix time of the reset instead, as CC did before.
   */
  retryAfter: 'reset-epoch' | 'delay-seconds';
  /** Limits of the `default` organization quota (null: unlimited), as `cc.quota_definitions.default` sets them. */
  defaultQuota: QuotaLimits;
  stagingDelayMs: number;
  uploadProcessingMs: number;
  copyDelayMs: number;
  instanceStartDelayMs: number;
  jobDelayMs: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Seeds the random source of fault injection; setting it at runtime restarts the sequence. */
  seed: number;
  faults: SimFaults;
  foreignLinks: SimForeignLinks;
}

export const defaultKnobs: SimKnobs = {
  latencyMs: 0,
  rateLimit: { limit: 100_000, windowSeconds: 3600 },
  retryAfter: 'delay-seconds',
  // cloud_controller_ng config/cloud_controller.yml: memory_limit 10240, total_routes 1000; no instance limits.
  defaultQuota: { totalMemoryInMb: 10_240, perProcessMemoryInMb: null, totalAppInstances: null, totalRoutes: 1000 },
  stagingDelayMs: 300,
  uploadProcessingMs: 0,
  copyDelayMs: 100,
  instanceStartDelayMs: 200,
  jobDelayMs: 50,
  accessTokenTtlSeconds: 1200,
  refreshTokenTtlSeconds: 30 * 24 * 3600,
  seed: 1,
  faults: { serverErrorRate: 0, lostResponseRate: 0, copyFailureRate: 0, failNextCopies: 0, jobFailureRate: 0, failNextJobs: 0 },
  foreignLinks: { origin: 'http://cf-foreign.invalid', pagination: false, jobLocation: false },
};

export interface SimUser {
  username: string;
  password: string;
  /** Holds `cloud_controller.admin` (default true); otherwise it may do only what its roles allow. */
  admin?: boolean;
}

export interface SimClient {
  id: string;
  secret: string;
  /** Grants this client may use: the CLI's `cf` client has password and refresh_token. */
  grants: ('password' | 'refresh_token' | 'client_credentials')[];
}

export const builtInUsers: SimUser[] = [
  { username: 'admin', password: 'admin-secret', admin: true },
  // A plain user: a space developer once given the role (POST /v3/roles), as a real operator's account is.
  { username: 'developer', password: 'developer-secret', admin: false },
];
export const builtInClients: SimClient[] = [
  { id: 'cf', secret: '', grants: ['password', 'refresh_token'] },
  { id: 'fleet-automation', secret: 'fleet-automation-secret', grants: ['client_credentials'] },
];

type KnobsInput = Partial<Omit<SimKnobs, 'faults' | 'rateLimit' | 'foreignLinks' | 'defaultQuota'>> & {
  defaultQuota?: Partial<QuotaLimits>;
  faults?: Partial<SimFaults>;
  rateLimit?: Partial<SimKnobs['rateLimit']>;
  foreignLinks?: Partial<SimForeignLinks>;
};

export type SimOptions = KnobsInput & {
  users?: SimUser[];
  clients?: SimClient[];
  /** The shared domain every org can route under. */
  appsDomain?: string;
  clock?: SimClock;
  /** Replaces the seeded random source (tests that script each draw). */
  random?: () => number;
  /** Entries kept by GET /__sim/requests (oldest dropped first). */
  requestLogLimit?: number;
  /** HMAC key of the access tokens; random per simulator unless given. */
  tokenSigningKey?: string;
  /**
   * Origin of the `login` and `uaa` links of `GET /` (on CF, `https://login.<system domain>`): serve
   * the same app there too. By default the origin the client used.
   */
  uaaOrigin?: string;
};

export function knobsFrom(options: SimOptions): SimKnobs {
  const { users: _users, clients: _clients, appsDomain: _domain, clock: _clock, random: _random, requestLogLimit: _limit, tokenSigningKey: _key, uaaOrigin: _uaa, ...knobs } = options;
  return mergeKnobs(defaultKnobs, knobs);
}

const probability = z.number().min(0).max(1);
const milliseconds = z.number().int().min(0).max(3_600_000);
const count = z.number().int().min(0);

/** PUT /__sim/config: any subset of the knobs, plus a 429 storm to arm. */
export const knobsPatchSchema = z.strictObject({
  latencyMs: milliseconds.optional(),
  rateLimit: z.strictObject({ limit: count.optional(), windowSeconds: z.number().int().min(1).max(86_400).optional() }).optional(),
  retryAfter: z.enum(['reset-epoch', 'delay-seconds']).optional(),
  defaultQuota: z
    .strictObject({
      totalMemoryInMb: count.nullable().optional(),
      perProcessMemoryInMb: count.nullable().optional(),
      totalAppInstances: count.nullable().optional(),
      totalRoutes: count.nullable().optional(),
    })
    .optional(),
  stagingDelayMs: milliseconds.optional(),
  uploadProcessingMs: milliseconds.optional(),
  copyDelayMs: milliseconds.optional(),
  instanceStartDelayMs: milliseconds.optional(),
  jobDelayMs: milliseconds.optional(),
  accessTokenTtlSeconds: z.number().int().min(1).optional(),
  refreshTokenTtlSeconds: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
  faults: z
    .strictObject({
      serverErrorRate: probability.optional(),
      lostResponseRate: probability.optional(),
      copyFailureRate: probability.optional(),
      failNextCopies: count.optional(),
      jobFailureRate: probability.optional(),
      failNextJobs: count.optional(),
    })
    .optional(),
  foreignLinks: z
    .strictObject({
      origin: z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'must be an origin such as http://127.0.0.1:9999').optional(),
      pagination: z.boolean().optional(),
      jobLocation: z.boolean().optional(),
    })
    .optional(),
  /** Arms a 429 storm: the next `requests` CC requests, and/or every CC request for `seconds`. */
  rateLimitStorm: z.strictObject({ requests: count.optional(), seconds: z.number().min(0).optional() }).optional(),
});

export type KnobsPatch = z.infer<typeof knobsPatchSchema>;

export function mergeKnobs(current: SimKnobs, patch: KnobsInput): SimKnobs {
  const defined = <T extends object>(value: T | undefined) =>
    Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const { faults, rateLimit, foreignLinks, defaultQuota, ...rest } = patch;
  return {
    ...current,
    ...defined(rest),
    defaultQuota: { ...current.defaultQuota, ...defined(defaultQuota) },
    rateLimit: { ...current.rateLimit, ...defined(rateLimit) },
    faults: { ...current.faults, ...defined(faults) },
    foreignLinks: { ...current.foreignLinks, ...defined(foreignLinks) },
  };
}

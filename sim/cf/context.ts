// The per-simulator runtime every route shares (state, knobs, clock, faults, tokens, traffic) and
// the Hono environment type of its handlers.
import { seededRandom, systemClock, type SimClock } from './clock.ts';
import { builtInClients, builtInUsers, knobsFrom, mergeKnobs, type KnobsPatch, type SimClient, type SimKnobs, type SimOptions, type SimUser } from './options.ts';
import { applyQuotaLimits, DEFAULT_QUOTA_GUID, SimState } from './state.ts';
import { TokenService, type Principal } from './tokens.ts';
import { Traffic, type InjectedFault } from './traffic.ts';

export interface SimEnv {
  Variables: {
    /** Scheme and authority the client used, so every link is absolute and reachable. */
    baseUrl: string;
    /** Where pagination links and job Locations point: baseUrl, unless the `foreignLinks` knob says elsewhere. */
    linkBaseUrls: { pagination: string; jobLocation: string };
    principal: Principal | undefined;
    /** Why the bearer token was not accepted, when it was not. */
    tokenProblem: 'missing' | 'invalid' | 'expired' | undefined;
    fault: InjectedFault | undefined;
    /** The handler ran and answered 2xx (a lost response is applied, then answered 502). */
    applied: boolean;
  };
}

interface RateWindow {
  count: number;
  validUntil: number;
}

export class SimRuntime {
  readonly clock: SimClock;
  readonly users: SimUser[];
  readonly clients: SimClient[];
  readonly appsDomain: string;
  readonly uaaOrigin: string | undefined;
  readonly tokens: TokenService;
  readonly traffic: Traffic;
  knobs: SimKnobs;
  state: SimState;
  /** An armed 429 storm: the next `remainingRequests` CC requests, and every one until `until`. */
  storm = { remainingRequests: 0, until: 0 };
  readonly rateWindows = new Map<string, RateWindow>();
  private draw: () => number;

  constructor(private readonly options: SimOptions) {
    this.clock = options.clock ?? systemClock;
    this.users = options.users ?? builtInUsers;
    this.clients = options.clients ?? builtInClients;
    this.appsDomain = options.appsDomain ?? 'apps.cf.test';
    this.uaaOrigin = options.uaaOrigin?.replace(/\/$/, '');
    this.knobs = knobsFrom(options);
    this.draw = options.random ?? seededRandom(this.knobs.seed);
    this.state = new SimState(() => this.clock.now(), this.appsDomain, this.knobs.defaultQuota);
    this.tokens = new TokenService(options.tokenSigningKey, () => this.clock.now());
    this.traffic = new Traffic(options.requestLogLimit ?? 50_000);
  }

  now(): number {
    return this.clock.now();
  }

  random(): number {
    return this.draw();
  }

  /** True when the fault fires: first the "next N" counter, then the probability. */
  fires(counter: 'failNextCopies' | 'failNextJobs', rate: 'copyFailureRate' | 'jobFailureRate'): boolean {
    const faults = this.knobs.faults;
    if (faults[counter] > 0) {
      faults[counter]--;
      return true;
    }
    return faults[rate] > 0 && this.random() < faults[rate];
  }

  configure(patch: KnobsPatch): void {
    const { rateLimitStorm, ...knobs } = patch;
    this.knobs = mergeKnobs(this.knobs, knobs);
    if (knobs.seed !== undefined && !this.options.random) this.draw = seededRandom(knobs.seed);
    if (knobs.rateLimit) this.rateWindows.clear();
    if (knobs.defaultQuota) applyQuotaLimits(this.state.organizationQuotas.get(DEFAULT_QUOTA_GUID)!, this.knobs.defaultQuota);
    if (rateLimitStorm) {
      this.storm = {
        remainingRequests: rateLimitStorm.requests ?? 0,
        until: rateLimitStorm.seconds ? this.now() + rateLimitStorm.seconds * 1000 : 0,
      };
    }
  }

  /** Back to the state and knobs the simulator started with: no resources, no log, no windows, no storm. */
  reset(): void {
    this.knobs = knobsFrom(this.options);
    this.draw = this.options.random ?? seededRandom(this.knobs.seed);
    this.state = new SimState(() => this.clock.now(), this.appsDomain, this.knobs.defaultQuota);
    this.storm = { remainingRequests: 0, until: 0 };
    this.rateWindows.clear();
    this.tokens.forgetRefreshTokens();
    this.traffic.clear();
  }

  /** The knobs as GET /__sim/config shows them, with the storm still armed. */
  describe(): SimKnobs & { rateLimitStorm: { remainingRequests: number; endsAt: string | null }; appsDomain: string } {
    const stormEnds = this.storm.until > this.now() ? new Date(this.storm.until).toISOString() : null;
    return { ...structuredClone(this.knobs), rateLimitStorm: { remainingRequests: this.storm.remainingRequests, endsAt: stormEnds }, appsDomain: this.appsDomain };
  }
}

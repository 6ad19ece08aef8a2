// The Cloud Controller v3 + UAA simulator as the stack starts it, over HTTP. (Its behaviour is
// tested in process, on a fake clock, in test/unit/cfSimulator.test.ts.)
import { describe, expect, it } from 'vitest';
import type { Counters } from '../sim/cf/traffic.ts';
import { testConfig } from './support/stack.ts';

const CF_CLIENT = `Basic ${Buffer.from('cf:').toString('base64')}`;

describe('CF simulator started with the stack', () => {
  it('answers over HTTP at CF_API_URL with the configured user and apps domain', async () => {
    const { cf } = testConfig();
    expect(cf.simulator.run).toBe(true);
    const root = (await (await fetch(`${cf.apiUrl}/`)).json()) as { links: Record<string, { href: string }> };
    expect(root.links.cloud_controller_v3!.href).toBe(`${cf.apiUrl}/v3`);
    const login = async (username: string, password: string) => {
      const tokenResponse = await fetch(`${root.links.login!.href}/oauth/token`, {
        method: 'POST',
        headers: { authorization: CF_CLIENT },
        body: new URLSearchParams({ grant_type: 'password', username, password }),
      });
      expect(tokenResponse.status).toBe(200);
      return ((await tokenResponse.json()) as { access_token: string }).access_token;
    };
    const access_token = await login(cf.username, cf.password);
    const domains = await fetch(`${cf.apiUrl}/v3/domains`, { headers: { authorization: `bearer ${access_token}` } });
    // The configured user is an admin: not rate limited (CC's admin_limit -1); the built-in developer is.
    expect(domains.headers.get('x-ratelimit-limit')).toBeNull();
    const developer = await fetch(`${cf.apiUrl}/v3/domains`, { headers: { authorization: `bearer ${await login('developer', 'developer-secret')}` } });
    expect(developer.headers.get('x-ratelimit-limit')).not.toBeNull();
    const body = (await domains.json()) as { resources: { name: string; links: { self: { href: string } } }[] };
    expect(body.resources[0]!.name).toBe(cf.appsDomain);
    expect(body.resources[0]!.links.self.href.startsWith(`${cf.apiUrl}/v3/domains/`)).toBe(true);
    const counters = (await (await fetch(`${cf.apiUrl}/__sim/counters`)).json()) as Counters;
    expect(counters.tokens.issued).toBeGreaterThanOrEqual(1);
  });
});

// The API refuses a network address while no admin account exists (someone must be able to sign in
// and let others in), in one line naming the setting; loopback needs none.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../config.ts';
import { requireAdminOffLoopback } from '../../server/adminOffLoopback.ts';

describe('an API on a network address without an admin', () => {
  it('refuses to start, naming API_HOST', () => {
    expect(() => requireAdminOffLoopback('0.0.0.0', 0)).toThrow(ConfigError);
    expect(() => requireAdminOffLoopback('192.0.2.10', 0)).toThrow(/^API_HOST=192\.0\.2\.10 with no admin account: /);
  });

  it('starts with an admin, or on loopback without one', () => {
    for (const [host, admins] of [['0.0.0.0', 1], ['127.0.0.1', 0], ['localhost', 0], ['::1', 0]] as const) {
      expect(() => requireAdminOffLoopback(host, admins), `${host} with ${admins} admins`).not.toThrow();
    }
  });
});

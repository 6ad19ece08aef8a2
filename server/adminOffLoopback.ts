// The API's start refusal on a network address without an admin (server/main.ts): apart from the
// entry point, so it is tested without starting a server.
import { ConfigError, isLoopbackHost } from '../config.ts';

/** On a network address, someone must be able to sign in and let others in: an admin account must exist. */
export function requireAdminOffLoopback(apiHost: string, admins: number): void {
  if (isLoopbackHost(apiHost) || admins > 0) return;
  throw new ConfigError(`API_HOST=${apiHost} with no admin account: start once on loopback (npm start makes the first admin) or add an admin, then listen on ${apiHost}.`);
}

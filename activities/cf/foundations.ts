// Foundations by name, resolved from configuration inside the worker: workflows name a foundation,
// they never carry its URL's credentials.
import { ApplicationFailure } from '@temporalio/activity';
import type { CfConnection, Config } from '../../config.ts';
import { DEFAULT_FOUNDATION } from '../../workflows/cfConverge.shared.ts';
import { createCfDispatcher, createFastFetch } from './transport.ts';
import { createCfClient, type CfClient, type CfCredentials, type CfSession } from './client.ts';

export interface CfFoundation {
  apiUrl: string;
  credentials: CfCredentials;
  /** TLS trust and proxies (default: Node's CAs, no proxy). */
  connection?: Partial<CfConnection>;
}

export function foundationsFromConfig(config: Config): Record<string, CfFoundation> {
  const { cf } = config;
  const credentials: CfCredentials = cf.clientId
    ? { kind: 'client', clientId: cf.clientId, clientSecret: cf.clientSecret ?? '' }
    : { kind: 'password', username: cf.username, password: cf.password };
  return { [DEFAULT_FOUNDATION]: { apiUrl: cf.apiUrl, credentials, connection: cf.connection } };
}

export function clientFactory(foundations: Record<string, CfFoundation>) {
  const sessions = new Map<string, CfSession>();
  // One connection pool per foundation: each has its own TLS trust and proxies.
  const fetches = new Map<string, typeof fetch>();
  return (name: string, signal: AbortSignal): CfClient => {
    // An own key only: `constructor` or `__proto__` must not find Object's.
    const foundation = Object.hasOwn(foundations, name) ? foundations[name] : undefined;
    if (!foundation) throw ApplicationFailure.nonRetryable(`Unknown foundation ${name}; configured: ${Object.keys(foundations).join(', ')}`, 'UnknownFoundation');
    if (!sessions.has(name)) sessions.set(name, {});
    if (!fetches.has(name)) fetches.set(name, createFastFetch(createCfDispatcher(foundation.connection)));
    return createCfClient({ apiUrl: foundation.apiUrl, credentials: foundation.credentials, signal, session: sessions.get(name), fetch: fetches.get(name) });
  };
}

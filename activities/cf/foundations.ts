// Foundations by name, resolved from configuration inside the worker: workflows name a foundation,
// they never carry its URL's credentials.
import { ApplicationFailure } from '@temporalio/activity';
import type { Config } from '../../config.ts';
import { DEFAULT_FOUNDATION } from '../../workflows/cfConverge.shared.ts';
import { createFastFetch } from './transport.ts';
import { createCfClient, type CfClient, type CfCredentials, type CfSession } from './client.ts';

export interface CfFoundation {
  apiUrl: string;
  credentials: CfCredentials;
}

export function foundationsFromConfig(config: Config): Record<string, CfFoundation> {
  const { cf } = config;
  const credentials: CfCredentials = cf.clientId
    ? { kind: 'client', clientId: cf.clientId, clientSecret: cf.clientSecret ?? '' }
    : { kind: 'password', username: cf.username, password: cf.password };
  return { [DEFAULT_FOUNDATION]: { apiUrl: cf.apiUrl, credentials } };
}

export function clientFactory(foundations: Record<string, CfFoundation>) {
  const sessions = new Map<string, CfSession>();
  const fastFetch = createFastFetch();
  return (name: string, signal: AbortSignal): CfClient => {
    // An own key only: `constructor` or `__proto__` must not find Object's.
    const foundation = Object.hasOwn(foundations, name) ? foundations[name] : undefined;
    if (!foundation) throw ApplicationFailure.nonRetryable(`Unknown foundation ${name}; configured: ${Object.keys(foundations).join(', ')}`, 'UnknownFoundation');
    if (!sessions.has(name)) sessions.set(name, {});
    return createCfClient({ ...foundation, signal, session: sessions.get(name), fetch: fastFetch });
  };
}

// The CF simulator on CF_SIM_PORT, with the configured user (and client) as its credentials: run by
// the stack's simulators process (sim/main.ts) or alone (sim/cf/server.ts).
import { serve } from '@hono/node-server';
import type { Config } from '../../config.ts';
import { exitOnListenError } from '../process.ts';
import { builtInClients, builtInUsers, type SimClient, type SimUser } from './options.ts';
import { createCfSimulator } from './simulator.ts';

export function listenCfSimulator(config: Config): void {
  const { cf } = config;
  const users: SimUser[] = [...builtInUsers.filter((u) => u.username !== cf.username), { username: cf.username, password: cf.password }];
  const clients: SimClient[] = [...builtInClients];
  if (cf.clientId) clients.push({ id: cf.clientId, secret: cf.clientSecret ?? '', grants: ['client_credentials'] });
  const app = createCfSimulator({ users, clients, appsDomain: cf.appsDomain });
  const { host, port } = cf.simulator;
  const server = serve({ fetch: app.fetch, hostname: host, port }, () =>
    // Credentials stay out of the log: only where it listens and what it serves.
    console.log(`CF simulator listening on http://${host}:${port} (apps domain ${cf.appsDomain}, pid ${process.pid})`),
  );
  server.on('error', exitOnListenError('CF_SIM_PORT', port));
}

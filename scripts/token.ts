// `npm run token -- <name> [viewer|operator|admin]`: makes an API token straight in the stack's MySQL
// and prints it (once; only its hash is kept). For scripts and CI on the machine that runs the stack;
// anyone else asks an admin, who makes one at /admin/tokens. Benchmarks make theirs with mintToken.
import type { Config } from '../config.ts';
import { loadConfig } from '../config.ts';
import { createAccessModel } from '../db/access.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createTokenSchema, type Role } from '../services/access.shared.ts';
import { createAccessService } from '../services/access.ts';
import { parseInput } from '../services/errors.ts';
import { reportFatal } from './setup.ts';

export async function mintToken(config: Config, name: string, role: Role): Promise<string> {
  const mysql = createMysqlPool(config, { connectionLimit: 1 });
  try {
    const service = createAccessService({ model: createAccessModel(mysql), settings: config.access });
    const input = parseInput(createTokenSchema, { name, role });
    return (await service.tokens.create(input, { kind: 'token', name: 'npm run token', role: 'admin', actor: 'cli:npm run token' })).token;
  } finally {
    await mysql.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name = 'cli', role = 'operator'] = process.argv.slice(2);
  mintToken(loadConfig(), name, role as Role)
    .then((token) => console.log(token))
    .catch(reportFatal);
}

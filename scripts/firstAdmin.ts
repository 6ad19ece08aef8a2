// The first admin of a fresh `npm start`: an `admin` account with a random one-time password, printed
// with the URLs and kept in <data dir>/admin.password (mode 0600) until the admin chooses their own.
import { writeFileSync } from 'node:fs';
import type { Config } from '../config.ts';
import { createAccessModel } from '../db/access.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createAccessService } from '../services/access.ts';
import { adminPasswordFile, existingFirstAdmin, FIRST_ADMIN, type FirstAdmin } from './firstAdminFile.ts';

export { adminPasswordFile, type FirstAdmin } from './firstAdminFile.ts';

export async function ensureFirstAdmin(config: Config): Promise<FirstAdmin | undefined> {
  const mysql = createMysqlPool(config, { connectionLimit: 1 });
  try {
    const model = createAccessModel(mysql);
    const created = await createAccessService({ model, settings: config.access }).ensureAdmin();
    const file = adminPasswordFile(config);
    if (created) {
      writeFileSync(file, `${created.password}\n`, { mode: 0o600 });
      return { ...created, file };
    }
    return existingFirstAdmin(config, Boolean((await model.findOperator(FIRST_ADMIN))?.mustChangePassword));
  } finally {
    await mysql.end();
  }
}

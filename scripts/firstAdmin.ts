// The first admin of a fresh `npm start`: an `admin` account with a random one-time password, printed
// with the URLs and kept in <data dir>/admin.password (mode 0600) until the admin chooses their own.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { createAccessModel } from '../db/access.ts';
import { createMysqlPool } from '../db/clients.ts';
import { createAccessService } from '../services/access.ts';

export const adminPasswordFile = (config: Config) => join(config.dataDir, 'admin.password');

export interface FirstAdmin {
  username: string;
  /** Set when it was made now; otherwise the file still holds it, or the admin has chosen their own. */
  password?: string;
  /** The password file, while the printed password is still the admin's. */
  file?: string;
}

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
    const admin = await model.findOperator('admin');
    if (admin?.mustChangePassword && existsSync(file)) return { username: 'admin', file };
    // The admin has chosen a password: the printed one is no longer worth keeping.
    rmSync(file, { force: true });
    return undefined;
  } finally {
    await mysql.end();
  }
}

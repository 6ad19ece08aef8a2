// The first admin's one-time password file (<data dir>/admin.password, mode 0600): kept while the
// printed password is still the admin's. Apart from scripts/firstAdmin.ts, which loads the access
// service, so the supervisor can read it (scripts/fleetPrepared.ts).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';

export const FIRST_ADMIN = 'admin';

export const adminPasswordFile = (config: Config) => join(config.dataDir, 'admin.password');

export interface FirstAdmin {
  username: string;
  /** Set when it was made now; otherwise the file still holds it, or the admin has chosen their own. */
  password?: string;
  /** The password file, while the printed password is still the admin's. */
  file?: string;
}

/** The existing first admin as a start reports it: its file while it must still change the printed password; else the file goes. */
export function existingFirstAdmin(config: Config, mustChangePassword: boolean): FirstAdmin | undefined {
  const file = adminPasswordFile(config);
  if (mustChangePassword && existsSync(file)) return { username: FIRST_ADMIN, file };
  // The admin has chosen a password: the printed one is no longer worth keeping.
  rmSync(file, { force: true });
  return undefined;
}

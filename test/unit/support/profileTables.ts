// The two profile tables in memory, answering the queries the fleet model sends for profiles
// (SELECT * … ORDER BY name, SELECT * … WHERE name = ?, INSERT … SET ? ON DUPLICATE KEY UPDATE ?),
// so a unit test sees what a PUT stores and what a later read returns.
import type { Pool } from 'mysql2/promise';

export type ProfileRow = Record<string, unknown>;

export function profileTables(seed: { ec2_profiles?: ProfileRow[]; ssh_profiles?: ProfileRow[] } = {}) {
  const tables: Record<string, Map<string, ProfileRow>> = {
    ec2_profiles: new Map((seed.ec2_profiles ?? []).map((row) => [row.name as string, row])),
    ssh_profiles: new Map((seed.ssh_profiles ?? []).map((row) => [row.name as string, row])),
  };
  function rows(sql: string, values: unknown): unknown {
    const table = tables[/(?:FROM|INTO) (\w+)/.exec(sql)?.[1] ?? ''];
    if (!table) throw new Error(`no stand-in for ${sql}`);
    const params = values as unknown[];
    if (sql.startsWith('INSERT')) {
      const [created, updated] = params as [ProfileRow, ProfileRow];
      const existing = table.get(created.name as string);
      table.set(created.name as string, existing ? { ...existing, ...updated } : { ...created });
      return { affectedRows: existing ? 2 : 1 };
    }
    if (sql.includes('WHERE name = ?')) return [...table.values()].filter((row) => row.name === params[0]);
    return [...table.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }
  const pool = { query: async (sql: string, values: unknown) => [rows(sql, values), []] } as unknown as Pool;
  return { tables, rows, pool };
}

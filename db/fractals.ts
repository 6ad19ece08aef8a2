// Fractal records and batches in MySQL (tables fractals, fractal_batches): metadata only, the PNGs are
// in object storage. Written by the fractal workflow's bookkeeping activities (an accepted job, its
// rendered result) and by the API (a changed job, a deleted one); read by the API, the UI and the CLI.
import type mysql from 'mysql2/promise';
import { inTransaction } from './transaction.ts';
import { fractalImagePath, type FractalJob, type FractalPage, type FractalRecord, type RenderedFractal } from '../workflows/fractals.shared.ts';

type Row = mysql.RowDataPacket;

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

function recordFrom(row: Row): FractalRecord & { revision: number } {
  return {
    uuid: row.uuid as string,
    checksum: (row.checksum as string | null) ?? null,
    url: (row.url as string | null) ?? null,
    duration: numberOrNull(row.duration),
    size: numberOrNull(row.size),
    width: Number(row.width),
    height: Number(row.height),
    iterations: Number(row.iterations),
    xa: Number(row.xa),
    xb: Number(row.xb),
    ya: Number(row.ya),
    yb: Number(row.yb),
    cx: Number(row.cx),
    cy: Number(row.cy),
    generated_by: (row.generated_by as string | null) ?? null,
    status: row.status as FractalRecord['status'],
    batch_id: (row.batch_id as string | null) ?? null,
    created_at: iso(row.created_at as Date),
    revision: Number(row.revision),
  };
}

/** A record as the API answers it (the revision is bookkeeping). */
export function publicRecord({ revision: _revision, ...record }: FractalRecord & { revision: number }): FractalRecord {
  return record;
}

export interface BatchProgress {
  batch_id: string;
  tasks: number;
  /** Fractals of the batch recorded so far (a batch starts its fractals in slices). */
  accepted: number;
  /** Fractals of the batch deleted since. */
  removed: number;
  done: number;
  created_at: string;
}

export function createFractalModel(pool: mysql.Pool) {
  const page = async (where: string, args: unknown[], pageNumber: number, pageSize: number): Promise<FractalPage> => {
    const [counted] = await pool.query<Row[]>(`SELECT COUNT(*) AS total FROM fractals ${where}`, args);
    const [rows] = await pool.query<Row[]>(`SELECT * FROM fractals ${where} ORDER BY created_at DESC, uuid DESC LIMIT ? OFFSET ?`, [
      ...args,
      pageSize,
      (pageNumber - 1) * pageSize,
    ]);
    const count = Number(counted[0]?.total ?? 0);
    return { objects: rows.map((row) => publicRecord(recordFrom(row))), num_results: count, page: pageNumber, total_pages: Math.max(1, Math.ceil(count / pageSize)) };
  };

  return {
    /**
     * Records an accepted job as queued; a job already recorded (the API recorded it, or this is a
     * retry) is left as it is. Whether this call made the record.
     */
    async recordAccepted(job: FractalJob, batchId: string | undefined): Promise<boolean> {
      const { uuid, width, height, iterations, xa, xb, ya, yb, cx, cy } = job;
      const [result] = await pool.query<mysql.ResultSetHeader>('INSERT IGNORE INTO fractals SET ?', [
        { uuid, width, height, iterations, xa, xb, ya, yb, cx, cy, batch_id: batchId ?? null },
      ]);
      return result.affectedRows === 1;
    },

    /**
     * Records a batch's slice of accepted jobs at once (as recordAccepted does each). The uuids this
     * call recorded (the others were recorded before: a batch started again).
     */
    async recordAcceptedMany(jobs: FractalJob[], batchId: string): Promise<string[]> {
      if (jobs.length === 0) return [];
      const uuids = jobs.map((job) => job.uuid);
      const [existing] = await pool.query<Row[]>('SELECT uuid FROM fractals WHERE uuid IN (?)', [uuids]);
      const before = new Set(existing.map((row) => row.uuid as string));
      const rows = jobs.map(({ uuid, width, height, iterations, xa, xb, ya, yb, cx, cy }) => [uuid, width, height, iterations, xa, xb, ya, yb, cx, cy, batchId]);
      await pool.query('INSERT IGNORE INTO fractals (uuid, width, height, iterations, xa, xb, ya, yb, cx, cy, batch_id) VALUES ?', [rows]);
      return uuids.filter((uuid) => !before.has(uuid));
    },

    /** Removes queued records no workflow will render (a batch started again met its fractal deleted since). */
    async forgetQueued(uuids: string[]): Promise<void> {
      if (uuids.length > 0) await pool.query("DELETE FROM fractals WHERE uuid IN (?) AND status = 'queued'", [uuids]);
    },

    /** Stores a render's result, unless the record has been changed (a newer revision) or deleted since. Whether it did. */
    async recordRendered(rendered: RenderedFractal, revision: number): Promise<boolean> {
      const [result] = await pool.query<mysql.ResultSetHeader>(
        `UPDATE fractals SET status = 'done', checksum = ?, size = ?, duration = ?, generated_by = ?, url = ?, rendered_at = CURRENT_TIMESTAMP(3)
         WHERE uuid = ? AND revision = ?`,
        [rendered.checksum, rendered.size, rendered.duration, rendered.generatedBy, fractalImagePath(rendered.uuid), rendered.uuid, revision],
      );
      return result.affectedRows === 1;
    },

    async get(uuid: string): Promise<(FractalRecord & { revision: number }) | undefined> {
      const [rows] = await pool.query<Row[]>('SELECT * FROM fractals WHERE uuid = ?', [uuid]);
      return rows[0] ? recordFrom(rows[0]) : undefined;
    },

    /** One page of every record, newest first. */
    list: (pageNumber: number, pageSize: number) => page('', [], pageNumber, pageSize),
    /** One page of the rendered ones, newest first (the original's index showed only those). */
    listRendered: (pageNumber: number, pageSize: number) => page("WHERE status = 'done'", [], pageNumber, pageSize),

    /**
     * New parameters for a rendered fractal: the result is cleared and the revision moves on, so a
     * render of the old parameters can no longer land. The new revision, or undefined when the
     * fractal is not rendered yet (or gone).
     */
    async replaceJob(job: FractalJob): Promise<number | undefined> {
      const { uuid, width, height, iterations, xa, xb, ya, yb, cx, cy } = job;
      const [result] = await pool.query<mysql.ResultSetHeader>(
        `UPDATE fractals SET width = ?, height = ?, iterations = ?, xa = ?, xb = ?, ya = ?, yb = ?, cx = ?, cy = ?, status = 'queued',
           checksum = NULL, url = NULL, duration = NULL, size = NULL, generated_by = NULL, rendered_at = NULL, revision = revision + 1
         WHERE uuid = ? AND status = 'done'`,
        [width, height, iterations, xa, xb, ya, yb, cx, cy, uuid],
      );
      if (result.affectedRows !== 1) return undefined;
      const [rows] = await pool.query<Row[]>('SELECT revision FROM fractals WHERE uuid = ?', [uuid]);
      return rows[0] ? Number(rows[0].revision) : undefined;
    },

    /** Removes the record; a batch's fractal counts as removed from its batch, which can then still finish. */
    async delete(uuid: string): Promise<boolean> {
      return inTransaction(pool, async (connection) => {
        const [rows] = await connection.query<Row[]>('SELECT batch_id FROM fractals WHERE uuid = ? FOR UPDATE', [uuid]);
        if (!rows[0]) return false;
        await connection.query('DELETE FROM fractals WHERE uuid = ?', [uuid]);
        if (rows[0].batch_id) await connection.query('UPDATE fractal_batches SET removed = removed + 1 WHERE id = ?', [rows[0].batch_id]);
        return true;
      });
    },

    async recordBatch(batchId: string, tasks: number): Promise<void> {
      await pool.query('INSERT IGNORE INTO fractal_batches SET ?', [{ id: batchId, tasks }]);
    },

    async batchProgress(batchId: string): Promise<BatchProgress | undefined> {
      const [rows] = await pool.query<Row[]>(batchProgressQuery('b.id = ?'), [batchId]);
      return rows[0] ? batchFrom(rows[0]) : undefined;
    },

    /** Batches of the last day not finished yet (newest first): the gallery's progress bars. */
    async unfinishedBatches(limit = 5): Promise<BatchProgress[]> {
      const [rows] = await pool.query<Row[]>(
        `${batchProgressQuery('b.created_at > NOW(3) - INTERVAL 1 DAY')} HAVING done + b.removed < b.tasks ORDER BY b.created_at DESC LIMIT ?`,
        [limit],
      );
      return rows.map(batchFrom);
    },

    /** Records by status: the gallery's totals and the benchmark's check that nothing was lost. */
    async countByStatus(): Promise<Record<FractalRecord['status'], number>> {
      const [rows] = await pool.query<Row[]>('SELECT status, COUNT(*) AS n FROM fractals GROUP BY status');
      const counts = { queued: 0, done: 0 };
      for (const row of rows) counts[row.status as FractalRecord['status']] = Number(row.n);
      return counts;
    },
  };
}

/** Batches that match `where`, each with its fractals recorded and done (the rows batchFrom reads). */
function batchProgressQuery(where: string): string {
  return `SELECT b.id, b.tasks, b.removed, b.created_at, COUNT(f.uuid) AS accepted, COALESCE(SUM(f.status = 'done'), 0) AS done
    FROM fractal_batches b LEFT JOIN fractals f ON f.batch_id = b.id
    WHERE ${where} GROUP BY b.id, b.tasks, b.removed, b.created_at`;
}

function batchFrom(row: Row): BatchProgress {
  return { batch_id: row.id as string, tasks: Number(row.tasks), removed: Number(row.removed), accepted: Number(row.accepted), done: Number(row.done), created_at: iso(row.created_at as Date) };
}

export type FractalModel = ReturnType<typeof createFractalModel>;

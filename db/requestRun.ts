// The request_recorder table as the receiver writes it: one count per call, in the run's counting mode.
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { CountingMode } from '../workflows/requestRun.shared.ts';

/** Receiver-side counting, one function per mode; `timestamp` alone is the seed's own call. */
export async function recordCall(
  mysql: Pool,
  call: { mode: CountingMode; runId?: string; seq?: number; timestamp?: number },
): Promise<'counted' | 'duplicate' | 'unknown-run'> {
  if (!call.runId) {
    const [result] = await mysql.query<ResultSetHeader>(
      'UPDATE request_recorder SET current_request_count = current_request_count + 1 WHERE `timestamp` = ?',
      [call.timestamp],
    );
    return result.affectedRows > 0 ? 'counted' : 'unknown-run';
  }
  switch (call.mode) {
    case 'atomic': {
      const [result] = await mysql.query<ResultSetHeader>(
        'UPDATE request_recorder SET current_request_count = current_request_count + 1 WHERE run_id = ?',
        [call.runId],
      );
      return result.affectedRows > 0 ? 'counted' : 'unknown-run';
    }
    case 'racy': {
      // Deliberately read-modify-write in two statements: concurrent calls overwrite each other.
      const [rows] = await mysql.query<RowDataPacket[]>('SELECT current_request_count FROM request_recorder WHERE run_id = ?', [call.runId]);
      if (rows.length === 0) return 'unknown-run';
      await mysql.query('UPDATE request_recorder SET current_request_count = ? WHERE run_id = ?', [Number(rows[0]!.current_request_count) + 1, call.runId]);
      return 'counted';
    }
    case 'exactly-once': {
      try {
        await mysql.query('INSERT INTO request_receipts (run_id, seq) VALUES (?, ?)', [call.runId, call.seq]);
        return 'counted';
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ER_DUP_ENTRY') return 'duplicate';
        if (code === 'ER_NO_REFERENCED_ROW_2' || code === 'ER_NO_REFERENCED_ROW') return 'unknown-run';
        throw error;
      }
    }
  }
}

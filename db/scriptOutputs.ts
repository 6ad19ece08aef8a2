// Script output per run and node (table script_outputs): written by the script activity, read by the
// script-run views, so a run's workflow payloads stay small whatever the nodes print.
import type mysql from 'mysql2/promise';

export interface ScriptOutput {
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

export interface ScriptOutputStore {
  /** Records (or replaces: a retry reports the same run) the output of `workflowId`'s script on `node`. */
  save(workflowId: string, node: string, output: ScriptOutput): Promise<void>;
  /** Every node's output of one run, by node name. */
  forRun(workflowId: string): Promise<Map<string, ScriptOutput>>;
}

export function createScriptOutputStore(pool: mysql.Pool): ScriptOutputStore {
  return {
    async save(workflowId, node, output) {
      const row = {
        workflow_id: workflowId,
        node,
        stdout: Buffer.from(output.stdout, 'utf8'),
        stderr: Buffer.from(output.stderr, 'utf8'),
        stdout_bytes: output.stdoutBytes,
        stderr_bytes: output.stderrBytes,
        stdout_truncated: output.stdoutTruncated,
        stderr_truncated: output.stderrTruncated,
      };
      await pool.query('REPLACE INTO script_outputs SET ?', [row]);
    },
    async forRun(workflowId) {
      const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT * FROM script_outputs WHERE workflow_id = ?', [workflowId]);
      return new Map(
        rows.map((row) => [
          row.node as string,
          {
            stdout: (row.stdout as Buffer).toString('utf8'),
            stderr: (row.stderr as Buffer).toString('utf8'),
            stdoutBytes: Number(row.stdout_bytes),
            stderrBytes: Number(row.stderr_bytes),
            stdoutTruncated: Boolean(row.stdout_truncated),
            stderrTruncated: Boolean(row.stderr_truncated),
          },
        ]),
      );
    },
  };
}

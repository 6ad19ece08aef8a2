// Trigger states, tick outcomes and firings in MySQL (tables of migration 0010). A tick commits every
// state it changed, the firings it made and its own outcome in one transaction, keyed by the tick's ID:
// a retried tick activity gets the outcome back instead of evaluating (and firing) twice.
import type mysql from 'mysql2/promise';
import { inTransaction as inPoolTransaction } from './transaction.ts';
import { chainEnded, initialTriggerState, type TriggerState } from '../workflows/triggerEvaluation.shared.ts';
import type { Action, FiringContext } from '../workflows/triggers.shared.ts';

type Row = mysql.RowDataPacket;

export type FiringOutcome = 'running' | 'succeeded' | 'failed' | 'suppressed';

export interface Firing {
  id: number;
  trigger: string;
  cluster: string;
  cause: FiringContext['cause'];
  firedAt: string;
  context: FiringContext;
  chain: Action[];
  chainWorkflowId: string;
  chainRunId: string | null;
  outcome: FiringOutcome;
  detail: string | null;
  endedAt: string | null;
}

export interface NewFiring {
  context: FiringContext;
  chain: Action[];
  chainWorkflowId: string;
}

/** What a tick computes from the states it locked: the new states, its firings, and (given their IDs) its outcome. */
export interface TickWork<Result> {
  states: Map<string, TriggerState>;
  firings: NewFiring[];
  result(firingIds: number[]): Result;
}

const parse = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));
const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function firingFrom(row: Row): Firing {
  return {
    id: Number(row.id),
    trigger: row.trigger_name as string,
    cluster: row.cluster as string,
    cause: row.cause as Firing['cause'],
    firedAt: iso(row.fired_at as Date)!,
    context: parse<FiringContext>(row.context),
    chain: parse<Action[]>(row.chain),
    chainWorkflowId: row.chain_workflow_id as string,
    chainRunId: (row.chain_run_id as string | null) ?? null,
    outcome: row.outcome as FiringOutcome,
    detail: (row.detail as string | null) ?? null,
    endedAt: iso(row.ended_at as Date | null),
  };
}

export function createTriggerStateStore(pool: mysql.Pool) {
  const inTransaction = <T>(work: (connection: mysql.PoolConnection) => Promise<T>) => inPoolTransaction(pool, work);

  async function lockStates(connection: mysql.PoolConnection, names: readonly string[]): Promise<Map<string, TriggerState>> {
    const states = new Map<string, TriggerState>(names.map((name) => [name, initialTriggerState()]));
    if (names.length === 0) return states;
    const [rows] = await connection.query<Row[]>('SELECT trigger_name, state FROM trigger_states WHERE trigger_name IN (?) FOR UPDATE', [names]);
    for (const row of rows) states.set(row.trigger_name as string, { ...initialTriggerState(), ...parse<TriggerState>(row.state) });
    return states;
  }

  async function saveStates(connection: mysql.PoolConnection, cluster: string, states: Map<string, TriggerState>): Promise<void> {
    if (states.size === 0) return;
    const rows = [...states].map(([name, state]) => [name, cluster, JSON.stringify(state)]);
    await connection.query('INSERT INTO trigger_states (trigger_name, cluster, state) VALUES ? ON DUPLICATE KEY UPDATE cluster = VALUES(cluster), state = VALUES(state)', [rows]);
  }

  return {
    /** The stored outcome of tick `tickId`, when it has committed. */
    async tickOutcome<Result>(cluster: string, tickId: string): Promise<Result | undefined> {
      const [rows] = await pool.query<Row[]>('SELECT result FROM trigger_ticks WHERE cluster = ? AND tick_id = ?', [cluster, tickId]);
      return rows[0] ? parse<Result>(rows[0].result) : undefined;
    },

    /**
     * Locks the states of `names`, lets `evaluate` compute the tick, and commits its states, firings
     * and outcome at once. A tick that committed already returns its stored outcome.
     */
    async commitTick<Result>(cluster: string, tickId: string, names: readonly string[], evaluate: (states: Map<string, TriggerState>) => TickWork<Result>): Promise<Result> {
      return inTransaction(async (connection) => {
        await connection.query('INSERT IGNORE INTO trigger_ticks (cluster, tick_id, result, ticked_at) VALUES (?, ?, ?, ?)', [cluster, '', 'null', new Date()]);
        const [ticks] = await connection.query<Row[]>('SELECT tick_id, result FROM trigger_ticks WHERE cluster = ? FOR UPDATE', [cluster]);
        if (ticks[0]!.tick_id === tickId) return parse<Result>(ticks[0]!.result);
        const work = evaluate(await lockStates(connection, names));
        await saveStates(connection, cluster, work.states);
        const ids: number[] = [];
        for (const firing of work.firings) {
          const [inserted] = await connection.query<mysql.ResultSetHeader>(
            'INSERT INTO trigger_firings (trigger_name, cluster, cause, fired_at, context, chain, chain_workflow_id, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            [firing.context.trigger, cluster, firing.context.cause, new Date(firing.context.firedAt), JSON.stringify(firing.context), JSON.stringify(firing.chain), firing.chainWorkflowId, 'running'],
          );
          ids.push(inserted.insertId);
        }
        const result = work.result(ids);
        await connection.query('UPDATE trigger_ticks SET tick_id = ?, result = ?, ticked_at = ? WHERE cluster = ?', [tickId, JSON.stringify(result), new Date(), cluster]);
        return result;
      });
    },

    /** The states of `names` (a trigger never evaluated is inactive). */
    async states(names: readonly string[]): Promise<Map<string, TriggerState>> {
      const states = new Map<string, TriggerState>(names.map((name) => [name, initialTriggerState()]));
      if (names.length === 0) return states;
      const [rows] = await pool.query<Row[]>('SELECT trigger_name, state FROM trigger_states WHERE trigger_name IN (?)', [names]);
      for (const row of rows) states.set(row.trigger_name as string, { ...initialTriggerState(), ...parse<TriggerState>(row.state) });
      return states;
    },

    /** Forgets a trigger's state (it was disabled, redefined or deleted): it starts inactive. */
    async resetState(name: string): Promise<void> {
      await pool.query('DELETE FROM trigger_states WHERE trigger_name = ?', [name]);
    },

    /**
     * The chain run `runId` takes on its firing: the scheduled firing `firingId`, or, for a run started
     * by hand (the API or `temporal workflow start`), a manual firing made here, once per run.
     */
    async openFiring(request: { firingId: number; runId: string } | { runId: string; manual: NewFiring }): Promise<Firing> {
      if ('firingId' in request) {
        await pool.query('UPDATE trigger_firings SET chain_run_id = ? WHERE id = ? AND chain_run_id IS NULL', [request.runId, request.firingId]);
        const [rows] = await pool.query<Row[]>('SELECT * FROM trigger_firings WHERE id = ?', [request.firingId]);
        if (!rows[0]) throw new Error(`No firing ${request.firingId}.`);
        return firingFrom(rows[0]);
      }
      const { context, chain, chainWorkflowId } = request.manual;
      await pool.query(
        'INSERT IGNORE INTO trigger_firings (trigger_name, cluster, cause, fired_at, context, chain, chain_workflow_id, chain_run_id, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [context.trigger, context.cluster, context.cause, new Date(context.firedAt), JSON.stringify(context), JSON.stringify(chain), chainWorkflowId, request.runId, 'running'],
      );
      const [rows] = await pool.query<Row[]>('SELECT * FROM trigger_firings WHERE chain_run_id = ?', [request.runId]);
      return firingFrom(rows[0]!);
    },

    /** The chain of `firingId` ended: its outcome is recorded and its trigger no longer waits for it. */
    async closeFiring(firingId: number, outcome: Exclude<FiringOutcome, 'running'>, detail: string | null): Promise<void> {
      await inTransaction(async (connection) => {
        const [rows] = await connection.query<Row[]>('SELECT trigger_name, cluster FROM trigger_firings WHERE id = ? FOR UPDATE', [firingId]);
        if (!rows[0]) return;
        await connection.query('UPDATE trigger_firings SET outcome = ?, detail = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?', [outcome, detail, new Date(), firingId]);
        if (outcome === 'suppressed') return; // the chain that was running will end the wait
        const name = rows[0].trigger_name as string;
        const states = await lockStates(connection, [name]);
        await saveStates(connection, rows[0].cluster as string, new Map([[name, chainEnded(states.get(name)!)]]));
      });
    },

    async firing(id: number): Promise<Firing | undefined> {
      const [rows] = await pool.query<Row[]>('SELECT * FROM trigger_firings WHERE id = ?', [id]);
      return rows[0] ? firingFrom(rows[0]) : undefined;
    },

    /** A trigger's firings, newest first. */
    async firings(trigger: string, limit = 50): Promise<Firing[]> {
      const [rows] = await pool.query<Row[]>('SELECT * FROM trigger_firings WHERE trigger_name = ? ORDER BY fired_at DESC, id DESC LIMIT ?', [trigger, limit]);
      return rows.map(firingFrom);
    },
  };
}

export type TriggerStateStore = ReturnType<typeof createTriggerStateStore>;

// GET /receiver: the seed's receiver, served by every API instance. It counts each call in MySQL
// in the run's counting mode. The hot path of request runs, so it validates by hand, without zod.
import { Hono } from 'hono';
import type { Pool } from 'mysql2/promise';
import { recordCall } from '../db/requestRun.ts';
import { countingModes, type CountingMode } from '../workflows/requestRun.shared.ts';
import { ServiceError, validationError } from '../services/errors.ts';

function wholeNumber(raw: string | undefined, field: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw validationError(field, 'must be a whole number');
  return Number(raw);
}

export function receiverRoutes(deps: { mysql: Pool; instance: string }) {
  return new Hono().get('/receiver', async (c) => {
    const timestamp = wholeNumber(c.req.query('timestamp'), 'timestamp');
    const seq = wholeNumber(c.req.query('seq'), 'seq');
    const runId = c.req.query('run');
    const mode = (c.req.query('mode') ?? 'atomic') as CountingMode;
    if (!countingModes.includes(mode)) throw validationError('mode', `must be one of ${countingModes.join(', ')}`);
    if (runId !== undefined && (runId === '' || runId.length > 64)) throw validationError('run', 'must be a run id of 1 to 64 characters');
    if (runId === undefined && timestamp === undefined) throw validationError('timestamp', 'give the run (run=…) or, like the seed, its timestamp');
    if (mode === 'exactly-once' && (runId === undefined || seq === undefined)) throw validationError('seq', 'exactly-once calls need run and seq');
    const outcome = await recordCall(deps.mysql, { mode, runId, seq, timestamp });
    if (outcome === 'unknown-run') throw new ServiceError(404, 'not_found', `No request run ${runId ?? `at timestamp ${timestamp}`}.`);
    c.header('x-receiver-instance', deps.instance);
    c.header('x-call', outcome);
    return c.json({});
  });
}

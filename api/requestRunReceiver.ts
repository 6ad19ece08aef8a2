// GET /receiver: the seed's receiver, served by every API instance. It counts each call in MySQL
// in the run's counting mode. The hot path of request runs: its query schema is built once.
import { Hono } from 'hono';
import type { Pool } from 'mysql2/promise';
import { recordCall } from '../db/requestRun.ts';
import { receiverQuerySchema } from '../workflows/requestRun.shared.ts';
import { ServiceError } from '../services/errors.ts';
import { readQuery } from './validation.ts';
import { access } from '../server/access.ts';

export function receiverRoutes(deps: { mysql: Pool; instance: string }) {
  return new Hono().get('/receiver', access('dataPlane'), async (c) => {
    const { mode, run: runId, seq, timestamp } = readQuery(c, receiverQuerySchema);
    const outcome = await recordCall(deps.mysql, { mode, runId, seq, timestamp });
    if (outcome === 'unknown-run') throw new ServiceError(404, 'not_found', `No request run ${runId ?? `at timestamp ${timestamp}`}.`);
    c.header('x-receiver-instance', deps.instance);
    c.header('x-call', outcome);
    return c.json({});
  });
}

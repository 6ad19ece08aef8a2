// HTTP routes of access: who am I, users and tokens (admin), and the audit log.
import { Hono } from 'hono';
import { access } from '../server/access.ts';
import { auditQuerySchema, createTokenSchema, createUserSchema, tokenIdSchema, usernameSchema } from '../services/access.shared.ts';
import type { AccessService } from '../services/access.ts';
import { readJson, readParam, readQuery } from './validation.ts';

export function accessRoutes(service: AccessService) {
  return new Hono()
    .get('/me', access('viewer'), (c) => {
      const { kind, name, role, actor } = c.get('principal');
      return c.json({ kind, name, role, actor });
    })
    .get('/users', access('admin'), async (c) => c.json({ users: await service.users.list() }))
    .post('/users', access('admin'), async (c) => c.json(await service.users.create(await readJson(c, createUserSchema)), 201))
    .delete('/users/:username', access('admin'), async (c) => {
      await service.users.remove(readParam(c, 'username', usernameSchema), c.get('principal'));
      return c.body(null, 204);
    })
    .get('/tokens', access('admin'), async (c) => c.json({ tokens: await service.tokens.list() }))
    .post('/tokens', access('admin'), async (c) => c.json(await service.tokens.create(await readJson(c, createTokenSchema), c.get('principal')), 201))
    .delete('/tokens/:tokenId', access('admin'), async (c) => c.json(await service.tokens.revoke(readParam(c, 'tokenId', tokenIdSchema))))
    .get('/audit', access('viewer'), async (c) => c.json({ entries: await service.audit.list(readQuery(c, auditQuerySchema)) }));
}

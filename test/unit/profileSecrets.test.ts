// EC2 user data is write-only: the API and the UI say whether it is set (its SHA-256 and length),
// never its value; a PUT or a form that leaves it out keeps it, null or "clear" removes it; the
// worker's launch still reads the value itself. Driven without servers: the stub app over the
// profile tables in memory.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFleetModel } from '../../db/nodes.ts';
import { profileTables } from './support/profileTables.ts';
import { stubApp } from './support/stubApp.ts';

const SECRET = '#!/bin/sh\nexport DB_PASSWORD=unit-hunter2\n';
const sha256 = createHash('sha256').update(SECRET).digest('hex');
const base = { region: 'us-east-1', imageId: 'ami-12c6146b', instanceType: 't3.micro', targetGroup: 'tg' };
const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const form = (fields: Record<string, string>): RequestInit => ({ method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

function setup() {
  const db = profileTables();
  const stub = stubApp({ rows: db.rows });
  const stored = (name: string) => db.tables.ec2_profiles!.get(name)?.user_data;
  return { db, stub, stored, request: async (path: string, init?: RequestInit) => (await stub.app.request(path, init)).text() };
}

describe('EC2 user data is write-only', () => {
  it('is stored by a PUT and answered only as set, its SHA-256 and its length', async () => {
    const { stored, request } = setup();
    const saved = JSON.parse(await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: SECRET }))) as { profile: { userData: unknown } };
    expect(saved.profile.userData).toEqual({ set: true, sha256, bytes: Buffer.byteLength(SECRET) });
    expect(stored('p')).toBe(SECRET);
    const listed = await request('/api/ec2-profiles');
    expect(listed).not.toContain('unit-hunter2');
    expect(listed).toContain(sha256);
  });

  it('keeps the stored value when a PUT leaves userData out, and clears it on null or ""', async () => {
    const { stub, stored, request } = setup();
    await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: SECRET }));
    const kept = JSON.parse(await request('/api/ec2-profiles/p', json('PUT', { ...base, instanceType: 't3.small' }))) as { profile: { instanceType: string; userData: unknown } };
    expect(kept.profile).toMatchObject({ instanceType: 't3.small', userData: { set: true, sha256 } });
    expect(stored('p')).toBe(SECRET);
    // The update leaves the column out; a new profile without user data stores null.
    const updates = stub.queries.filter((q) => q.sql.startsWith('INSERT')).map((q) => (q.values as Record<string, unknown>[])[1]!);
    expect(updates[1]).not.toHaveProperty('user_data');
    await request('/api/ec2-profiles/fresh', json('PUT', base));
    expect(stored('fresh')).toBeNull();
    await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: null }));
    expect(stored('p')).toBeNull();
    await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: SECRET }));
    await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: '' }));
    expect(stored('p')).toBeNull();
  });

  it('never puts it into the edit form nor the table, and an empty textarea keeps it; "clear" removes it', async () => {
    const { stored, request } = setup();
    await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: SECRET }));
    const edit = await request('/ui/nodes/profiles/ec2/form?name=p');
    expect(edit).not.toContain('unit-hunter2');
    expect(edit).toContain(sha256);
    expect(edit).toMatch(/<textarea[^>]*name="userData"[^>]*><\/textarea>/);
    expect(edit).toContain('name="userDataClear"');
    const fields = { name: 'p', ...base, securityGroups: '', targetPort: '', userData: '' };
    const saved = await request('/ui/nodes/profiles/ec2', form({ ...fields, instanceType: 't3.small' }));
    expect(saved).toContain('Updated EC2 profile p');
    expect(saved).not.toContain('unit-hunter2');
    expect(saved).toMatch(/<td><span title="sha256 [0-9a-f]{64}">set<\/span><\/td>/);
    expect(stored('p')).toBe(SECRET);
    // A refused form does not echo what was typed into a secret field.
    const refused = await request('/ui/nodes/profiles/ec2', form({ ...fields, region: 'nowhere', userData: 'echo unit-typed-secret' }));
    expect(refused).toContain('region');
    expect(refused).not.toContain('unit-typed-secret');
    expect(refused).toContain(sha256);
    const cleared = await request('/ui/nodes/profiles/ec2', form({ ...fields, userDataClear: '1' }));
    expect(cleared).toContain('not set');
    expect(stored('p')).toBeNull();
  });

  it('is still read in full by the launch (getProfileForLaunch), and only there', async () => {
    const { db, request } = setup();
    await request('/api/ec2-profiles/p', json('PUT', { ...base, userData: SECRET }));
    const model = createFleetModel(db.pool);
    expect((await model.getProfileForLaunch('p'))?.userData).toBe(SECRET);
    expect((await model.getProfile('ec2', 'p'))?.userData).toEqual({ set: true, sha256, bytes: Buffer.byteLength(SECRET) });
    expect(JSON.stringify(await model.listProfiles('ec2'))).not.toContain('unit-hunter2');
  });
});

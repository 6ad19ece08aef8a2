// The etcd probe behind /readyz: an active etcd alarm (NOSPACE past ETCD_QUOTA_BYTES) is etcd not ok.
import { describe, expect, it } from 'vitest';
import type { IAlarmRequest } from 'etcd3';
import type { ServiceClients } from '../../db/clients.ts';
import { createDependencyProbes } from '../../db/health.ts';

/** Clients whose etcd answers its status and the given alarms, recording each alarm request. */
function etcdAnswering(alarms: { memberID: string; alarm: string }[]) {
  const requests: IAlarmRequest[] = [];
  const maintenance = {
    status: async () => ({ version: '3.4.23' }),
    alarm: async (request: IAlarmRequest) => {
      requests.push(request);
      return { header: {}, alarms };
    },
  };
  return { clients: { etcd: { maintenance } } as unknown as ServiceClients, requests };
}

describe('etcd probe', () => {
  it('is ok with the version when no alarm is active, having asked etcd for every member’s alarms', async () => {
    const { clients, requests } = etcdAnswering([]);
    expect(await createDependencyProbes(clients).etcd(1000)).toMatchObject({ name: 'etcd', ok: true, detail: 'etcd 3.4.23' });
    expect(requests).toEqual([{ action: 'Get', memberID: 0, alarm: 'None' }]);
  });

  it('is not ok while a NOSPACE alarm is active, naming the alarm, the member and ETCD_QUOTA_BYTES', async () => {
    const { clients } = etcdAnswering([{ memberID: '10276657743932975437', alarm: 'NOSPACE' }]);
    const result = await createDependencyProbes(clients).etcd(1000);
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(
      'etcd alarm active: NOSPACE (member 10276657743932975437): etcd is over its space quota (ETCD_QUOTA_BYTES) and refuses writes until compacted, defragmented and the alarm disarmed',
    );
  });

  it('is not ok while another alarm is active', async () => {
    const { clients } = etcdAnswering([{ memberID: '1', alarm: 'Corrupt' }]);
    const result = await createDependencyProbes(clients).etcd(1000);
    expect(result).toMatchObject({ ok: false, detail: 'etcd alarm active: CORRUPT (member 1): etcd refuses writes until the alarm is disarmed' });
  });
});

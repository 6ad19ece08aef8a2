// PyScaler's memcached keys for counter samples: prefix by kind, node, counter, and the UTC minute.
import { describe, expect, it } from 'vitest';
import { memcachedKeys, minuteStamp } from '../../db/samples.ts';

describe('memcached keys of a sample', () => {
  it('stamps the minute in UTC with a 4-digit year, whatever offset the time was written with', () => {
    expect(minuteStamp('2026-01-02T03:04:59.999Z')).toBe('202601020304');
    expect(minuteStamp('2026-01-02T05:04:00+02:00')).toBe('202601020304');
    expect(minuteStamp(new Date(Date.UTC(1999, 11, 31, 23, 59)))).toBe('199912312359');
  });

  it('uses the seed prefix per kind, and escapes what memcached keys may not hold', () => {
    expect(memcachedKeys('ssh', 'web01', 'cpu-busy', '2026-01-02T03:04:05Z')).toEqual({ count: 'ssh_sshcounter.web01.cpu-busy', value: 'ssh_sshcounter.web01.cpu-busy.202601020304' });
    expect(memcachedKeys('http', 'web01', 'heap', '2026-01-02T03:04:05Z').count).toBe('http_httpcounter.web01.heap');
    expect(memcachedKeys('cf-process', 'cf:my shop\n', 'cpu', '2026-01-02T03:04:05Z').count).toBe('cf_cfcounter.cf:my%20shop%0a.cpu');
    expect(memcachedKeys('cf-process', 'cf:100%', 'cpu', '2026-01-02T03:04:05Z').count).toBe('cf_cfcounter.cf:100%25.cpu');
  });
});

// What the simulator was asked, for tests and benchmarks to assert on: a bounded request log and
// counters of mutating calls by kind, polling calls, tokens, and the faults it injected.

export type InjectedFault = 'rate-limited' | 'storm-429' | 'server-error' | 'lost-response';

export interface RequestLogEntry {
  seq: number;
  at: string;
  method: string;
  /** Path and query, with credentials redacted. */
  path: string;
  /** Method and path with GUIDs replaced by :guid, e.g. "PATCH /v3/apps/:guid/relationships/current_droplet". */
  kind: string;
  status: number;
  mutating: boolean;
  durationMs: number;
  fault?: InjectedFault;
}

interface KindCounts {
  total: number;
  byKind: Record<string, number>;
}

export interface Counters {
  requests: number;
  /** CC calls that change state (POST, PUT, PATCH, DELETE under /v3): every attempt, and those that were applied (2xx). */
  mutations: { attempted: KindCounts; applied: KindCounts };
  /** CC reads (GET under /v3), e.g. polling jobs, droplets, builds and stats. */
  reads: KindCounts;
  tokens: { issued: number; byGrant: Record<string, number>; refused: number };
  byStatus: Record<string, number>;
  faults: { rateLimited: number; storm429: number; serverErrors: number; lostResponses: number };
}

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const SECRET_PARAMS = /^(password|client_secret|refresh_token|access_token|code|passcode|token)$/i;

export function requestKind(method: string, pathname: string): string {
  return `${method} ${pathname.replace(GUID, ':guid')}`;
}

export function redactedPath(url: URL): string {
  if (!url.search) return url.pathname;
  const params = new URLSearchParams(url.search);
  for (const key of [...params.keys()]) if (SECRET_PARAMS.test(key)) params.set(key, 'REDACTED');
  return `${url.pathname}?${params.toString()}`;
}

const emptyKindCounts = (): KindCounts => ({ total: 0, byKind: {} });

function emptyCounters(): Counters {
  return {
    requests: 0,
    mutations: { attempted: emptyKindCounts(), applied: emptyKindCounts() },
    reads: emptyKindCounts(),
    tokens: { issued: 0, byGrant: {}, refused: 0 },
    byStatus: {},
    faults: { rateLimited: 0, storm429: 0, serverErrors: 0, lostResponses: 0 },
  };
}

function bump(counts: KindCounts, kind: string): void {
  counts.total++;
  counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
}

const faultCounter: Record<InjectedFault, keyof Counters['faults']> = {
  'rate-limited': 'rateLimited',
  'storm-429': 'storm429',
  'server-error': 'serverErrors',
  'lost-response': 'lostResponses',
};

export class Traffic {
  private entries: RequestLogEntry[] = [];
  private seq = 0;
  private counts = emptyCounters();

  constructor(private readonly limit: number) {}

  record(entry: Omit<RequestLogEntry, 'seq'> & { applied: boolean; api: 'cc' | 'uaa' | 'other' }): void {
    const { applied, api, ...logged } = entry;
    this.entries.push({ seq: ++this.seq, ...logged });
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    const counts = this.counts;
    counts.requests++;
    counts.byStatus[entry.status] = (counts.byStatus[entry.status] ?? 0) + 1;
    if (entry.fault) counts.faults[faultCounter[entry.fault]]++;
    if (api === 'cc' && entry.mutating) {
      bump(counts.mutations.attempted, entry.kind);
      if (applied) bump(counts.mutations.applied, entry.kind);
    } else if (api === 'cc' && entry.method === 'GET') {
      bump(counts.reads, entry.kind);
    }
  }

  recordToken(grant: string, issued: boolean): void {
    if (issued) {
      this.counts.tokens.issued++;
      this.counts.tokens.byGrant[grant] = (this.counts.tokens.byGrant[grant] ?? 0) + 1;
    } else {
      this.counts.tokens.refused++;
    }
  }

  /** Entries after sequence number `since` (or at/after an ISO time). */
  requests(since?: string): { requests: RequestLogEntry[]; last: number } {
    let selected = this.entries;
    if (since && /^\d+$/.test(since)) selected = selected.filter((e) => e.seq > Number(since));
    else if (since) selected = selected.filter((e) => e.at >= new Date(since).toISOString());
    return { requests: selected, last: this.seq };
  }

  counters(): Counters {
    return structuredClone(this.counts);
  }

  clear(): void {
    this.entries = [];
    this.counts = emptyCounters();
  }
}

// The API's own Prometheus metrics: requests answered by method, route and status, their latency as
// a histogram, and the process's memory. Served at GET /metrics (a viewer's token, as Prometheus'
// `authorization` setting sends it). Each API instance counts its own, labelled with its name.
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';

/** Upper bounds of the latency buckets, in seconds. */
const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  labels: string;
  count: number;
  sum: number;
  /** Requests at or under each bound (cumulative when written). */
  inBucket: number[];
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function createHttpMetrics(instance: string) {
  const series = new Map<string, Series>();
  const instanceLabel = `instance="${escapeLabel(instance)}"`;

  function observe(method: string, route: string, status: number, seconds: number) {
    const labels = `${instanceLabel},method="${method}",route="${escapeLabel(route)}",status="${status}"`;
    let entry = series.get(labels);
    if (!entry) {
      entry = { labels, count: 0, sum: 0, inBucket: buckets.map(() => 0) };
      series.set(labels, entry);
    }
    entry.count++;
    entry.sum += seconds;
    const index = buckets.findIndex((bound) => seconds <= bound);
    if (index >= 0) entry.inBucket[index]!++;
  }

  /** Records every request with the route that answered it (its pattern, so IDs do not make new series). */
  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = matchedRoutes(c).find((r) => r.method !== 'ALL')?.path ?? 'unmatched';
      observe(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
    }
  };

  function text(): string {
    const lines = [
      '# HELP fleet_http_requests_total HTTP requests answered, by method, route pattern and status.',
      '# TYPE fleet_http_requests_total counter',
    ];
    for (const entry of series.values()) lines.push(`fleet_http_requests_total{${entry.labels}} ${entry.count}`);
    lines.push('# HELP fleet_http_request_duration_seconds Time to answer an HTTP request.', '# TYPE fleet_http_request_duration_seconds histogram');
    for (const entry of series.values()) {
      let cumulative = 0;
      buckets.forEach((bound, i) => {
        cumulative += entry.inBucket[i]!;
        lines.push(`fleet_http_request_duration_seconds_bucket{${entry.labels},le="${bound}"} ${cumulative}`);
      });
      lines.push(`fleet_http_request_duration_seconds_bucket{${entry.labels},le="+Inf"} ${entry.count}`);
      lines.push(`fleet_http_request_duration_seconds_sum{${entry.labels}} ${entry.sum}`);
      lines.push(`fleet_http_request_duration_seconds_count{${entry.labels}} ${entry.count}`);
    }
    const memory = process.memoryUsage();
    lines.push(
      '# HELP fleet_process_resident_memory_bytes Resident memory of this API instance.',
      '# TYPE fleet_process_resident_memory_bytes gauge',
      `fleet_process_resident_memory_bytes{${instanceLabel}} ${memory.rss}`,
      '# HELP fleet_process_heap_used_bytes V8 heap in use in this API instance.',
      '# TYPE fleet_process_heap_used_bytes gauge',
      `fleet_process_heap_used_bytes{${instanceLabel}} ${memory.heapUsed}`,
    );
    return `${lines.join('\n')}\n`;
  }

  return { middleware, text };
}

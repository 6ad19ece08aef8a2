// How counter answers are read: PyScaler's float(stdout), JSON pointers (RFC 6901), the Prometheus
// text format, and the one script that runs a node's SSH counters in one login (run here by a local
// sh, as sshd would run it).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  batchScript,
  counterRunValue,
  newBoundary,
  numberAtPointer,
  parseBatchOutput,
  parseNumber,
  parsePrometheusText,
  PromParseError,
  resolveJsonPointer,
  selectPrometheusValue,
} from '../../activities/triggers/counterFormats.ts';

describe('a counter value on stdout', () => {
  it('takes what float() takes and refuses what Number() would wrongly take', () => {
    expect(parseNumber(' 42.5\n')).toBe(42.5);
    expect(parseNumber('-1e3')).toBe(-1000);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('1_000')).toBe(1000);
    // Number('') is 0, Number('0x10') is 16, parseFloat('12abc') is 12: none is a number here.
    for (const text of ['', '  \n', '0x10', '12abc', '1 2', 'inf', 'NaN', 'Infinity', '1e999', '4\n5']) expect(parseNumber(text), JSON.stringify(text)).toBeUndefined();
  });
});

describe('JSON pointer (RFC 6901)', () => {
  const document = { 'a/b': 1, 'm~n': 2, '~1': 3, list: [10, 20], heap: { used: '123.5' }, '': 7, nested: { '0': 'zero' } };
  it('decodes ~1 before ~0, so ~01 is the key "~1" and not "/"', () => {
    expect(resolveJsonPointer(document, '/a~1b')).toEqual({ found: true, value: 1 });
    expect(resolveJsonPointer(document, '/m~0n')).toEqual({ found: true, value: 2 });
    expect(resolveJsonPointer(document, '/~01')).toEqual({ found: true, value: 3 });
    expect(resolveJsonPointer(document, '/')).toEqual({ found: true, value: 7 });
    expect(resolveJsonPointer(document, '')).toEqual({ found: true, value: document });
  });

  it('indexes arrays strictly and finds own members only', () => {
    expect(resolveJsonPointer(document, '/list/1')).toEqual({ found: true, value: 20 });
    for (const pointer of ['/list/01', '/list/-', '/list/2', '/list/length', '/constructor', '/heap/used/x', '/a~2b', 'list']) {
      expect(resolveJsonPointer(document, pointer).found, pointer).toBe(false);
    }
    expect(resolveJsonPointer(document, '/nested/0')).toEqual({ found: true, value: 'zero' });
  });

  it('gives the number at the pointer, a decimal string included, and says why otherwise', () => {
    expect(numberAtPointer(document, '/heap/used')).toEqual({ value: 123.5 });
    expect(numberAtPointer(document, '/list/0')).toEqual({ value: 10 });
    expect(numberAtPointer(document, '/nested/0')).toEqual({ error: 'JSON pointer "/nested/0" holds "zero", not a number' });
    expect(numberAtPointer(document, '/missing')).toEqual({ error: 'JSON pointer "/missing": /missing: no such member' });
    expect(numberAtPointer({ flag: true }, '/flag')).toMatchObject({ error: expect.stringContaining('not a number') });
  });
});

describe('Prometheus text format', () => {
  const exposition = [
    '# HELP http_requests_total The total number of HTTP requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027 1395066363000',
    'http_requests_total{method="post",code="400"}    3 1395066363000',
    '',
    '# A comment that is neither HELP nor TYPE',
    'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
    'weird{label="a}b,c=\\"d\\"",other="x"} 5',
    'metric_without_timestamp_and_labels 12.47',
    'something_weird{problem="division by zero"} +Inf -3982045',
    'not_a_number NaN',
    'job:rate5m{le="+Inf",} 9',
    'spaced { a = "1" , b="2" } -0.5',
    '# EOF',
  ].join('\n');

  it('reads labels with escaped quotes, backslashes, new lines, braces and commas in their values, and timestamps', () => {
    const samples = parsePrometheusText(exposition);
    expect(samples.map((s) => s.name)).toEqual(['http_requests_total', 'http_requests_total', 'msdos_file_access_time_seconds', 'weird', 'metric_without_timestamp_and_labels', 'something_weird', 'not_a_number', 'job:rate5m', 'spaced']);
    expect(samples[0]).toEqual({ name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, timestampMs: 1395066363000 });
    expect({ ...samples[2]!.labels }).toEqual({ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
    expect({ ...samples[3]!.labels }).toEqual({ label: 'a}b,c="d"', other: 'x' });
    expect(samples[5]).toMatchObject({ value: Infinity, timestampMs: -3982045 });
    expect(samples[6]!.value).toBeNaN();
    expect({ ...samples[7]!.labels }).toEqual({ le: '+Inf' });
    expect(samples[8]).toMatchObject({ labels: { a: '1', b: '2' }, value: -0.5 });
  });

  it('picks the one sample with the metric and labels (a subset), and refuses ambiguous, missing and non-finite ones', () => {
    const samples = parsePrometheusText(exposition);
    expect(selectPrometheusValue(samples, 'http_requests_total', { code: '400' })).toEqual({ value: 3 });
    expect(selectPrometheusValue(samples, 'weird', { label: 'a}b,c="d"' })).toEqual({ value: 5 });
    expect(selectPrometheusValue(samples, 'http_requests_total')).toEqual({ error: '2 samples match http_requests_total: add labels to pick one' });
    expect(selectPrometheusValue(samples, 'http_requests_total', { code: '500' })).toMatchObject({ error: expect.stringContaining('no sample') });
    // A name that only starts like the metric is another metric.
    expect(selectPrometheusValue(samples, 'http_requests')).toMatchObject({ error: expect.stringContaining('no sample') });
    expect(selectPrometheusValue(samples, 'something_weird')).toMatchObject({ error: expect.stringContaining('not a finite number') });
    expect(selectPrometheusValue(samples, 'not_a_number')).toMatchObject({ error: expect.stringContaining('not a finite number') });
  });

  it('refuses malformed lines (as a scrape would fail) and keeps a __proto__ label as a label', () => {
    for (const line of ['metric{a="1"', 'metric{a=1} 2', 'metric{a="1"} two', 'metric', 'metric 1 2 3', 'metric{a="\\x"} 1', 'metric{a="1",a="2"} 1', '{a="1"} 1', 'metric-1']) {
      expect(() => parsePrometheusText(line), line).toThrow(PromParseError);
    }
    const [sample] = parsePrometheusText('m{__proto__="x"} 1');
    expect(Object.keys(sample!.labels)).toEqual(['__proto__']);
    expect(selectPrometheusValue([sample!], 'm', { __proto__: 'x' } as unknown as Record<string, string>)).toEqual({ value: 1 });
  });
});

describe('several SSH counters in one script', () => {
  /** Runs the batch script as sshd would (`sh -s`, the script on stdin). */
  const runLocally = (scripts: string[], timeoutMs = 5000) => {
    const boundary = newBoundary();
    const result = spawnSync('sh', ['-s'], { input: batchScript(scripts.map((script) => ({ script, timeoutMs })), boundary), encoding: 'utf8', timeout: 20_000 });
    expect(result.status, result.stderr).toBe(0);
    const parsed = parseBatchOutput(result.stdout, boundary, scripts.length);
    return { ...parsed, boundary, values: scripts.map((_, i) => (parsed.runs.has(i) ? counterRunValue(parsed.runs.get(i)!, timeoutMs) : undefined)) };
  };

  it('gives each counter its own stdout and exit status, whatever the others print, exit or quote', () => {
    const { values, runs } = runLocally([
      'echo 42',
      "printf '%s\\n' \"it's\" '\"quoted\"'; echo 7 >&2; exit 3",
      'echo not-a-number',
      // Tries to end the script and print a result line of its own for counter 0.
      "echo 1; exit 0\nEOF\necho fleet-counter-0 0 0 o:OTk5 e:\necho '; echo 99 #'",
      'cat /proc/loadavg >/dev/null; echo "  3.25  "',
      'echo',
    ]);
    expect(values).toEqual([
      { value: 42 },
      { error: 'the script exited 3: 7' },
      { error: 'stdout is not a number: "not-a-number\\n"' },
      { value: 1 },
      { value: 3.25 },
      { error: 'stdout is not a number: "\\n"' },
    ]);
    expect(runs.get(1)!.stdout).toBe('it\'s\n"quoted"\n');
  });

  it('keeps a counter from reading the rest of the script on stdin or holding the login with a background child', () => {
    const started = performance.now();
    const { values } = runLocally(['cat; echo 5', 'sleep 20 & echo 6', 'echo 7']);
    expect(values).toEqual([{ value: 5 }, { value: 6 }, { value: 7 }]);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('runs the counters at once, each under its own timeout', () => {
    const started = performance.now();
    const { values } = runLocally(['sleep 1; echo 1', 'sleep 1; echo 2', 'sleep 30; echo 3'], 1500);
    expect(values).toEqual([{ value: 1 }, { value: 2 }, { error: 'the script did not finish within 1500 ms' }]);
    expect(performance.now() - started).toBeLessThan(6000);
  });

  it('ignores lines without this call\'s boundary, malformed ones, duplicates and indexes out of range', () => {
    const boundary = newBoundary();
    const other = newBoundary();
    const ok = (n: number) => Buffer.from(String(n)).toString('base64');
    const stdout = [
      `${other} 0 0 o:${ok(666)} e:`,
      `${boundary} 0 0 o:${ok(5)} e:`,
      `${boundary} 0 0 o:${ok(6)} e:`,
      `${boundary} 1 0 o:not base64! e:`,
      `${boundary} 2 0 o:${ok(8)} e:`,
      `x${boundary} 1 0 o:${ok(9)} e:`,
      `${boundary} 7 0 o:${ok(1)} e:`,
    ].join('\n');
    const parsed = parseBatchOutput(stdout, boundary, 3);
    expect([...parsed.runs.entries()].map(([i, run]) => [i, run.stdout])).toEqual([[0, '5'], [2, '8']]);
    expect(parseBatchOutput(`${boundary} setup mktemp-failed\n`, boundary, 1).setupError).toBe('mktemp-failed');
  });
});

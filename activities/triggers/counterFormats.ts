// What counters answer, read strictly: a number as PyScaler's `float(stdout)` reads it, a JSON
// pointer (RFC 6901), the Prometheus text exposition format, and the delimited output of the one
// shell script that runs all of a node's SSH counters in one login.
import { randomBytes } from 'node:crypto';
import { shellQuote } from '../nodes/ssh.ts';

/**
 * A decimal number alone on stdout (surrounding whitespace allowed), as Python's float() takes it
 * minus inf/nan, which no threshold can compare. Unlike Number(), '' and '0x10' are not numbers.
 */
export function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+)?$/.test(trimmed)) return undefined;
  const value = Number(trimmed.replace(/_/g, ''));
  return Number.isFinite(value) ? value : undefined;
}

// JSON pointer.

export type PointerResult = { found: true; value: unknown } | { found: false; reason: string };

/** RFC 6901: `~1` is `/` and `~0` is `~` (in that order); only own keys; array indexes without leading zeros. */
export function resolveJsonPointer(document: unknown, pointer: string): PointerResult {
  if (pointer === '') return { found: true, value: document };
  if (!pointer.startsWith('/')) return { found: false, reason: `${JSON.stringify(pointer)} is not a JSON pointer (it must start with /)` };
  let current: unknown = document;
  let path = '';
  for (const raw of pointer.slice(1).split('/')) {
    if (/~[^01]|~$/.test(raw)) return { found: false, reason: `${JSON.stringify(raw)} has an invalid ~ escape` };
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += `/${raw}`;
    if (Array.isArray(current)) {
      if (!/^(?:0|[1-9]\d*)$/.test(token) || Number(token) >= current.length) return { found: false, reason: `${path}: no such array element` };
      current = current[Number(token)];
    } else if (current !== null && typeof current === 'object') {
      if (!Object.hasOwn(current, token)) return { found: false, reason: `${path}: no such member` };
      current = (current as Record<string, unknown>)[token];
    } else {
      return { found: false, reason: `${path}: the value above it is not an object or array` };
    }
  }
  return { found: true, value: current };
}

/** The number a parsed JSON document holds at `pointer` (a JSON number, or a string holding a decimal). */
export function numberAtPointer(document: unknown, pointer: string): { value: number } | { error: string } {
  const found = resolveJsonPointer(document, pointer);
  if (!found.found) return { error: `JSON pointer ${JSON.stringify(pointer)}: ${found.reason}` };
  const value = typeof found.value === 'number' ? found.value : typeof found.value === 'string' ? parseNumber(found.value) : undefined;
  if (value === undefined || !Number.isFinite(value)) return { error: `JSON pointer ${JSON.stringify(pointer)} holds ${describe(found.value)}, not a number` };
  return { value };
}

const describe = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

// Prometheus text exposition format (version 0.0.4, and the OpenMetrics lines it shares).

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

/** A line the parser could not read: the whole exposition is refused, as Prometheus refuses a scrape. */
export class PromParseError extends Error {
  override name = 'PromParseError';
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

function promFloat(text: string): number | undefined {
  switch (text) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** Every sample of an exposition; comments (`# HELP`, `# TYPE`, `# EOF`, others) and blank lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  lines.forEach((rawLine, index) => {
    const line = rawLine.replace(/\r$/, '');
    if (/^\s*(#|$)/.test(line)) return;
    const fail = (what: string): never => {
      throw new PromParseError(`line ${index + 1}: ${what}: ${describe(line)}`);
    };
    let at = line.search(/\S/);
    const match = (pattern: RegExp) => {
      pattern.lastIndex = at;
      const found = pattern.exec(line);
      if (!found) return undefined;
      at = pattern.lastIndex;
      return found[0];
    };
    const skipSpaces = () => {
      while (line[at] === ' ' || line[at] === '\t') at++;
    };
    const name = match(METRIC_NAME) ?? fail('no metric name');
    // No prototype: a label named __proto__ is a label like any other.
    const labels = Object.create(null) as Record<string, string>;
    const afterName = at;
    skipSpaces();
    const hasLabels = line[at] === '{';
    if (!hasLabels) at = afterName;
    else {
      at++;
      for (;;) {
        skipSpaces();
        if (line[at] === '}') break;
        const label = match(LABEL_NAME) ?? fail('a label name was expected');
        skipSpaces();
        if (line[at] !== '=') fail(`no = after label ${label}`);
        at++;
        skipSpaces();
        if (line[at] !== '"') fail(`the value of label ${label} is not quoted`);
        at++;
        let value = '';
        for (;;) {
          const char = line[at];
          if (char === undefined) fail(`the value of label ${label} is not closed`);
          at++;
          if (char === '"') break;
          if (char === '\\') {
            const escaped = line[at++];
            if (escaped === 'n') value += '\n';
            else if (escaped === '\\' || escaped === '"') value += escaped;
            else fail(`label ${label} has an unknown escape \\${escaped ?? ''}`);
          } else value += char;
        }
        if (Object.hasOwn(labels, label)) fail(`label ${label} appears twice`);
        labels[label] = value;
        skipSpaces();
        if (line[at] === ',') at++;
        else if (line[at] !== '}') fail('a , or } was expected after a label');
      }
      at++;
    }
    const tail = (hasLabels ? /^[ \t]*(\S+)(?:[ \t]+(\S+))?[ \t]*$/ : /^[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*$/).exec(line.slice(at)) ?? fail('a value (and an optional timestamp) was expected after the metric');
    const value = promFloat(tail[1]!) ?? fail(`${describe(tail[1])} is not a sample value`);
    let timestampMs: number | undefined;
    if (tail[2] !== undefined) {
      if (!/^-?\d+$/.test(tail[2])) fail(`${describe(tail[2])} is not a timestamp`);
      timestampMs = Number(tail[2]);
    }
    samples.push({ name, labels, value, ...(timestampMs === undefined ? {} : { timestampMs }) });
  });
  return samples;
}

/**
 * The value of the one sample named `metric` whose labels include `labels` (it may carry more
 * labels). None or several matching is an error: a counter must name one series.
 */
export function selectPrometheusValue(samples: readonly PromSample[], metric: string, labels: Readonly<Record<string, string>> = {}): { value: number } | { error: string } {
  const wanted = Object.entries(labels);
  const matching = samples.filter((s) => s.name === metric && wanted.every(([name, value]) => Object.hasOwn(s.labels, name) && s.labels[name] === value));
  const selector = `${metric}${wanted.length ? `{${wanted.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')}}` : ''}`;
  if (matching.length === 0) return { error: `no sample ${selector}` };
  if (matching.length > 1) return { error: `${matching.length} samples match ${selector}: add labels to pick one` };
  const value = matching[0]!.value;
  if (!Number.isFinite(value)) return { error: `${selector} is ${value}, not a finite number` };
  return { value };
}

// Several SSH counters in one login.

/** Bytes of a counter's stdout and stderr the script sends back (a number needs a few). */
export const COUNTER_STDOUT_BYTES = 4096;
export const COUNTER_STDERR_BYTES = 512;

export interface CounterScript {
  script: string;
  timeoutMs: number;
}

/** What one counter's run left: its exit status (124/137: timed out), stdout and the start of stderr. */
export interface CounterRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A random token that only this call's script knows: a counter cannot print a line that passes for a result. */
export const newBoundary = () => `fleet-counter-${randomBytes(16).toString('hex')}`;

/**
 * The shell script (sent on stdin to `sh -s`) that runs every counter in its own subshell, at once,
 * each under timeout(1), its stdout and stderr into files; then prints one line per counter:
 * `<boundary> <index> <exit> o:<base64 stdout> e:<base64 stderr>`. Base64 keeps a counter's output
 * from ever looking like a result line; the boundary keeps anything else from doing so.
 */
export function batchScript(counters: readonly CounterScript[], boundary: string): string {
  const lines = [
    `d=$(mktemp -d 2>/dev/null) || { echo "${boundary} setup mktemp-failed"; exit 0; }`,
    `trap 'rm -rf "$d"' EXIT`,
    // A counter's script is one quoted word handed to sh -c: nothing in it can end this script.
    `run() { ( cd / && timeout -k 1 "$2" sh -c "$3" </dev/null >"$d/$1.out" 2>"$d/$1.err"; echo $? >"$d/$1.rc" ) & }`,
    ...counters.map((c, index) => `run ${index} ${Math.max(1, Math.ceil(c.timeoutMs / 1000))} ${shellQuote(c.script)}`),
    'wait',
    `for i in ${counters.map((_, index) => index).join(' ')}; do`,
    `  printf '%s %s %s o:%s e:%s\\n' ${shellQuote(boundary)} "$i" "$(cat "$d/$i.rc" 2>/dev/null || echo 255)" "$(head -c ${COUNTER_STDOUT_BYTES} "$d/$i.out" | base64 | tr -d '\\n')" "$(head -c ${COUNTER_STDERR_BYTES} "$d/$i.err" | base64 | tr -d '\\n')"`,
    'done',
  ];
  return `${lines.join('\n')}\n`;
}

/** Bytes of output batchScript prints for `count` counters, at most (for the runner's output limit). */
export const batchOutputBytes = (count: number, boundary: string) => count * (boundary.length + 40 + Math.ceil((COUNTER_STDOUT_BYTES + COUNTER_STDERR_BYTES) / 3) * 4) + 1024;

/**
 * Each counter's run from the script's output, by index; a counter without a result line (the
 * output was cut, the login died) is missing from the map. Lines without this call's boundary,
 * malformed ones and duplicates (the first counts) are ignored.
 */
export function parseBatchOutput(stdout: string, boundary: string, count: number): { runs: Map<number, CounterRun>; setupError?: string } {
  const runs = new Map<number, CounterRun>();
  const base64 = '[A-Za-z0-9+/]*={0,2}';
  const pattern = new RegExp(`^(\\d+) (\\d+) o:(${base64}) e:(${base64})$`);
  for (const line of stdout.split('\n')) {
    if (!line.startsWith(`${boundary} `)) continue;
    const rest = line.slice(boundary.length + 1);
    if (rest.startsWith('setup ')) return { runs, setupError: rest.slice(6) };
    const found = pattern.exec(rest);
    if (!found) continue;
    const index = Number(found[1]);
    if (index >= count || runs.has(index)) continue;
    runs.set(index, {
      exitCode: Number(found[2]),
      stdout: Buffer.from(found[3]!, 'base64').toString('utf8'),
      stderr: Buffer.from(found[4]!, 'base64').toString('utf8'),
    });
  }
  return { runs };
}

/** A counter run's value, or why it is not one (PyScaler: a non-zero exit is an error, stdout goes through float()). */
export function counterRunValue(run: CounterRun, timeoutMs: number): { value: number } | { error: string } {
  const stderr = run.stderr.trim().split('\n')[0]?.slice(0, 200);
  const why = stderr ? `: ${stderr}` : '';
  // timeout(1) exits 124 when it stopped the script, 137 when it had to kill it.
  if (run.exitCode === 124 || run.exitCode === 137) return { error: `the script did not finish within ${timeoutMs} ms` };
  if (run.exitCode !== 0) return { error: `the script exited ${run.exitCode}${why}` };
  const value = parseNumber(run.stdout);
  if (value === undefined) return { error: `stdout is not a number: ${describe(run.stdout.slice(0, 100))}` };
  return { value };
}

// `faafo`, the command line of the fractals app (OpenStack FAAFO's bin/faafo): create, list, show,
// delete and get fractals through the API (/v1/fractal). runFaafo takes its fetch, output and file
// writing as arguments, so the unit tests drive it without processes; the launcher is scripts/faafo.mjs.
import { createHash, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as z from 'zod/mini';
import { ConfigError, faafoSettings, type FaafoSettings } from '../config.ts';
import {
  fractalBatchDefaults,
  fractalBatchSpecSchema,
  fractalCreateSchema,
  fractalUuidSchema,
  type FractalBatchSpec,
  type FractalPage,
  type FractalRecord,
} from '../workflows/fractals.shared.ts';

export interface FaafoIo {
  settings: FaafoSettings;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** fs.promises.writeFile's shape: flag `wx` must fail with EEXIST when the file exists. */
  writeFile: (path: string, data: Uint8Array, options: { flag: 'w' | 'wx' }) => Promise<void>;
  /** Between polls of `create --wait`; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
}

export const exitCodes = { ok: 0, apiError: 1, usage: 2, authRefused: 3 } as const;

/** A failure that ends the command: its message for stderr and its exit code. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
const usageError = (message: string) => new CliError(message, exitCodes.usage);

const REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_POLL_SECONDS = 2;

// --- Options -------------------------------------------------------------------------------------

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

const commonOptions: OptionSpec = {
  'endpoint-url': { type: 'string' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** The parameters `create` takes as a value or as bounds (`--width`, `--min-width`, `--max-width`, …). */
const rangedParams = ['width', 'height', 'iterations', 'xa', 'xb', 'ya', 'yb'] as const;
type RangedParam = (typeof rangedParams)[number];
const integerParams: ReadonlySet<string> = new Set(['width', 'height', 'iterations']);

/** The original's task count: `--tasks`, else drawn from 1–10. */
const tasksDefaults = { min: 1, max: 10 } as const;

const createOptions: OptionSpec = Object.fromEntries([
  ...['tasks', 'min-tasks', 'max-tasks', 'cx', 'cy', 'poll-seconds'].map((name) => [name, { type: 'string' }] as const),
  ['wait', { type: 'boolean' }] as const,
  ...rangedParams.flatMap((param) => [param, `min-${param}`, `max-${param}`].map((name) => [name, { type: 'string' }] as const)),
]);

const commands = {
  create: { options: createOptions, positionals: [] as string[], summary: 'create fractals (one, or a batch with --tasks N)' },
  list: { options: { json: { type: 'boolean' } } as OptionSpec, positionals: [], summary: 'list every fractal (all pages)' },
  show: { options: { json: { type: 'boolean' } } as OptionSpec, positionals: ['uuid'], summary: "show one fractal's parameters" },
  delete: { options: {} as OptionSpec, positionals: ['uuid'], summary: 'delete a fractal' },
  get: { options: { output: { type: 'string', short: 'o' }, force: { type: 'boolean' } } as OptionSpec, positionals: ['uuid'], summary: "download a fractal's PNG" },
} as const;
type Command = keyof typeof commands;

const commonHelp = `Common options:
  --endpoint-url URL   the API (default: FAAFO_ENDPOINT_URL, else http://127.0.0.1:3000)
  --debug              print each request to stderr
  -h, --help           this help
The token is FLEET_TOKEN: export FLEET_TOKEN=$(npm run -s token -- my-laptop operator)
Exit codes: 0 ok, 1 API or network error, 2 usage error, 3 token refused.`;

const help: Record<Command | 'main', string> = {
  main: `Usage: faafo <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${`${name} ${command.positionals.map((p) => `<${p}>`).join(' ')}`.padEnd(16)} ${command.summary}`)
  .join('\n')}

Run \`faafo <command> --help\` for a command's options.
${commonHelp}`,
  create: `Usage: faafo create [options]

Each parameter is the value given, or drawn from its bounds (defaults as the original faafo):
  --width N        --min-width N (${fractalBatchDefaults.width.min})        --max-width N (${fractalBatchDefaults.width.max})
  --height N       --min-height N (${fractalBatchDefaults.height.min})       --max-height N (${fractalBatchDefaults.height.max})
  --iterations N   --min-iterations N (${fractalBatchDefaults.iterations.min})   --max-iterations N (${fractalBatchDefaults.iterations.max})
  --xa X           --min-xa X (${fractalBatchDefaults.xa.min})           --max-xa X (${fractalBatchDefaults.xa.max})
  --xb X           --min-xb X (${fractalBatchDefaults.xb.min})            --max-xb X (${fractalBatchDefaults.xb.max})
  --ya Y           --min-ya Y (${fractalBatchDefaults.ya.min})           --max-ya Y (${fractalBatchDefaults.ya.max})
  --yb Y           --min-yb Y (${fractalBatchDefaults.yb.min})          --max-yb Y (${fractalBatchDefaults.yb.max})
  --tasks N        --min-tasks N (${tasksDefaults.min})         --max-tasks N (${tasksDefaults.max})
  --cx X --cy Y    the Julia constant (both, or neither: then it is chosen per fractal)

One task is created with POST /v1/fractal and its uuid printed; more are one batch
(POST /v1/fractal-batches, the server draws each fractal's parameters) and its id printed.
  --wait               wait for the batch, showing done/tasks
  --poll-seconds N     between progress checks (default ${DEFAULT_POLL_SECONDS})
${commonHelp}`,
  list: `Usage: faafo list [--json]

One line per fractal, newest first: uuid, status, size WxH, iterations, checksum prefix.
  --json   the records as a JSON array
${commonHelp}`,
  show: `Usage: faafo show <uuid> [--json]

The fractal's parameters and result as a table (--json: the record).
${commonHelp}`,
  delete: `Usage: faafo delete <uuid>
${commonHelp}`,
  get: `Usage: faafo get <uuid> [--output FILE] [--force]

Writes the fractal's PNG to FILE (default <uuid>.png); an existing file is kept unless --force.
${commonHelp}`,
};

/** The command: the first argument that is neither an option nor the value of --endpoint-url. */
function findCommand(argv: string[]): { command: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--endpoint-url') {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return { command: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: argv };
}

function parseCommandArgs(command: Command, args: string[]) {
  const options = { ...commonOptions, ...commands[command].options };
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(args, options), options, allowPositionals: true, strict: true });
    // No option is `multiple`, so no value is an array.
    return { values: values as Values, positionals };
  } catch (error) {
    // parseArgs's first sentence names the option ("Unknown option '--widht'"); its hints about `--` do not apply here.
    const sentence = (error as Error).message.split(/\.(\s|$)/)[0]!.trim();
    throw usageError(`${sentence}. See \`faafo ${command} --help\`.`);
  }
}

/** `--xa -2` as `--xa=-2`: parseArgs takes a value starting with a dash for an option, and the view's bounds are often negative. */
function joinNegativeValues(args: string[], options: OptionSpec): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

type Values = Record<string, string | boolean | undefined>;
const str = (values: Values, name: string) => values[name] as string | undefined;

/** A numeric option as the schemas expect it: blank or non-numeric text becomes NaN, which they refuse. */
function numberOption(values: Values, name: string): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  return raw.trim() === '' ? Number.NaN : Number(raw);
}

/** The option a schema issue is about: `['width', 'min']` is --min-width; `['width']` is --width, or its bounds. */
function optionOfPath(path: readonly PropertyKey[], values: Values): string {
  const [field, bound] = path.map(String);
  if (field === undefined) return 'the options';
  if (bound === 'min' || bound === 'max') return `--${bound}-${field}`;
  if (field === 'tasks' && values.tasks === undefined) return '--min-tasks/--max-tasks';
  if (values[field] !== undefined || !rangedParams.includes(field as RangedParam)) return `--${field}`;
  return `--min-${field}/--max-${field}`;
}

function parseOrUsage<T>(schema: z.ZodMiniType<T>, input: unknown, values: Values): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = specificIssue(result.error.issues[0]!, input);
  throw usageError(`${optionOfPath(issue.path, values)}: ${issue.message}`);
}

type Issue = z.core.$ZodIssue;
/**
 * A value or its bounds is a union, whose own issue only says "Invalid input": take the issue of the
 * branch meant for the value given (a number's, even NaN's, or the bounds'), with its path completed.
 */
function specificIssue(issue: Issue, input: unknown): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const value = issue.path.reduce<unknown>((at, key) => (at as Record<PropertyKey, unknown> | undefined)?.[key], input);
  const wrongBranch = (branch: Issue[]) => branch.some((i) => i.code === 'invalid_type' && i.path.length === 0 && i.expected !== typeof value);
  const branch = issue.errors.find((b) => !wrongBranch(b)) ?? issue.errors[0]!;
  const inner = branch[0]!;
  return specificIssue({ ...inner, path: [...issue.path, ...inner.path] } as Issue, input);
}

function uuidArgument(command: Command, positionals: string[]): string {
  if (positionals.length !== 1) throw usageError(`faafo ${command} takes one <uuid>. See \`faafo ${command} --help\`.`);
  const result = fractalUuidSchema.safeParse(positionals[0]);
  if (!result.success) throw usageError(`<uuid> ${JSON.stringify(positionals[0])}: ${result.error.issues[0]!.message}`);
  return result.data;
}

function endpointOf(values: Values, settings: FaafoSettings): string {
  const given = str(values, 'endpoint-url');
  if (given === undefined) return settings.endpointUrl;
  try {
    const url = new URL(given);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw usageError(`--endpoint-url: ${JSON.stringify(given)} is not an http(s) URL`);
  }
  return given.replace(/\/+$/, '');
}

// --- The API -------------------------------------------------------------------------------------

interface Api {
  endpoint: string;
  /** The response when its status is 2xx; any other status or a network failure throws a CliError. */
  call(method: string, path: string, body?: unknown): Promise<Response>;
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
}

function createApi(endpoint: string, io: FaafoIo, debug: boolean): Api {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const url = `${endpoint}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (io.settings.token) headers.authorization = `Bearer ${io.settings.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (debug) io.stderr(`> ${method} ${url}${body === undefined ? '' : ` ${JSON.stringify(body)}`}\n`);
    let response: Response;
    try {
      response = await io.fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new CliError(`cannot reach ${endpoint}: ${describeNetworkError(error)}`, exitCodes.apiError);
    }
    if (debug) io.stderr(`< ${response.status} ${response.headers.get('content-type') ?? ''}\n`);
    if (response.ok) return response;
    throw await apiError(response, io.settings);
  };
  return {
    endpoint,
    call,
    async json<T>(method: string, path: string, body?: unknown) {
      return (await (await call(method, path, body)).json()) as T;
    },
  };
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is its cause.
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

/** The API's `{ error: { code, message, field? } }` as one line; 401 and 403 exit 3 with a hint about the token. */
async function apiError(response: Response, settings: FaafoSettings): Promise<CliError> {
  const text = await response.text().catch(() => '');
  let detail = `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  try {
    const { error } = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } };
    if (error?.message) detail = `${error.message} (${[error.code ?? `HTTP ${response.status}`, error.field && `field ${error.field}`].filter(Boolean).join(', ')})`;
  } catch {
    // Not our JSON shape (a proxy's page): the status and the text's start say enough.
  }
  if (response.status === 401 || response.status === 403) {
    const hint = settings.token
      ? response.status === 401
        ? 'FLEET_TOKEN was refused: make a new one with `npm run -s token -- my-laptop operator`.'
        : "FLEET_TOKEN's role may not do this: an operator token is needed to change fractals."
      : 'FLEET_TOKEN is not set: export FLEET_TOKEN=$(npm run -s token -- my-laptop operator)';
    return new CliError(`error: ${detail}\n${hint}`, exitCodes.authRefused);
  }
  return new CliError(`error: ${detail}`, exitCodes.apiError);
}

// --- Commands ------------------------------------------------------------------------------------

/** A number from `range` (a value, or min–max: whole numbers inclusive), as the original's random.randint and random.uniform. */
function draw(range: number | { min: number; max: number }, whole: boolean): number {
  if (typeof range === 'number') return range;
  return whole ? range.min + Math.floor(Math.random() * (range.max - range.min + 1)) : range.min + Math.random() * (range.max - range.min);
}

/** The batch spec the options describe (each parameter its value, or its bounds over the defaults), validated. */
function specOfOptions(values: Values): FractalBatchSpec {
  const tasksRange = { min: numberOption(values, 'min-tasks') ?? tasksDefaults.min, max: numberOption(values, 'max-tasks') ?? tasksDefaults.max };
  const tasksGiven = numberOption(values, 'tasks');
  const tasksSchema = fractalBatchSpecSchema.shape.tasks;
  const tasksRangeSchema = z.object({ tasks: z.object({ min: tasksSchema, max: tasksSchema }).check(z.refine((r) => r.min <= r.max, 'min must not exceed max')) });
  const tasks = tasksGiven ?? draw(parseOrUsage(tasksRangeSchema, { tasks: tasksRange }, values).tasks, true);
  const spec: Record<string, unknown> = { tasks };
  for (const param of rangedParams) {
    const value = numberOption(values, param);
    const defaults = fractalBatchDefaults[param];
    spec[param] = value ?? { min: numberOption(values, `min-${param}`) ?? defaults.min, max: numberOption(values, `max-${param}`) ?? defaults.max };
  }
  for (const part of ['cx', 'cy']) if (values[part] !== undefined) spec[part] = numberOption(values, part);
  return parseOrUsage(fractalBatchSpecSchema, spec, values);
}

async function create(api: Api, values: Values, io: FaafoIo): Promise<void> {
  const givenBoundsOfFixed = rangedParams.filter((p) => values[p] !== undefined && (values[`min-${p}`] !== undefined || values[`max-${p}`] !== undefined));
  if (givenBoundsOfFixed.length > 0) {
    const p = givenBoundsOfFixed[0]!;
    throw usageError(`--${p}: give a value or its bounds (--min-${p}, --max-${p}), not both`);
  }
  const pollSeconds = numberOption(values, 'poll-seconds') ?? DEFAULT_POLL_SECONDS;
  if (!(pollSeconds > 0 && pollSeconds <= 3600)) throw usageError('--poll-seconds: must be a number of seconds from 0 to 3600');
  const spec = specOfOptions(values);
  if (spec.tasks === 1) {
    const body = { uuid: randomUUID(), ...Object.fromEntries(rangedParams.map((p) => [p, draw(spec[p]!, integerParams.has(p))])), cx: spec.cx, cy: spec.cy };
    const fractal = await api.json<FractalRecord>('POST', '/v1/fractal', parseOrUsage(fractalCreateSchema, body, values));
    io.stdout(`${fractal.uuid}\n`);
    return;
  }
  const batch = await api.json<{ batch_id: string; tasks: number }>('POST', '/v1/fractal-batches', spec);
  io.stdout(`${batch.batch_id}\n`);
  if (values.wait) await waitForBatch(api, batch.batch_id, pollSeconds, io);
}

async function waitForBatch(api: Api, batchId: string, pollSeconds: number, io: FaafoIo): Promise<void> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let shown = -1;
  for (;;) {
    const status = await api.json<{ tasks: number; done: number }>('GET', `/v1/fractal-batches/${batchId}`);
    if (status.done !== shown) io.stderr(`${status.done}/${status.tasks} done\n`);
    shown = status.done;
    if (status.done >= status.tasks) return;
    await sleep(pollSeconds * 1000);
  }
}

/** Every page of `GET /v1/fractal`, as the original's list walked them. */
async function allFractals(api: Api): Promise<FractalRecord[]> {
  const first = await api.json<FractalPage>('GET', '/v1/fractal?page=1');
  const records = [...first.objects];
  for (let page = 2; page <= first.total_pages; page++) records.push(...(await api.json<FractalPage>('GET', `/v1/fractal?page=${page}`)).objects);
  return records;
}

async function list(api: Api, values: Values, io: FaafoIo): Promise<void> {
  const records = await allFractals(api);
  if (values.json) {
    io.stdout(`${JSON.stringify(records, null, 2)}\n`);
    return;
  }
  const rows = records.map((r) => [r.uuid, r.status, `${r.width}x${r.height}`, String(r.iterations), r.checksum?.slice(0, 12) ?? '-']);
  const widths = [0, 1, 2, 3].map((column) => Math.max(0, ...rows.map((row) => row[column]!.length)));
  for (const row of rows) io.stdout(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}\n`);
}

const shownFields: (keyof FractalRecord)[] = ['uuid', 'status', 'width', 'height', 'iterations', 'xa', 'xb', 'ya', 'yb', 'cx', 'cy', 'checksum', 'size', 'duration', 'generated_by', 'url', 'batch_id', 'created_at'];

/** A two-column table drawn as PrettyTable drew the original's `show`. */
export function parameterTable(record: FractalRecord): string {
  const rows = shownFields.map((field) => [field, record[field] === null || record[field] === undefined ? '-' : String(record[field])] as const);
  const left = Math.max('Parameter'.length, ...rows.map(([name]) => name.length));
  const right = Math.max('Value'.length, ...rows.map(([, value]) => value.length));
  const rule = `+${'-'.repeat(left + 2)}+${'-'.repeat(right + 2)}+`;
  const line = (a: string, b: string) => `| ${a.padEnd(left)} | ${b.padEnd(right)} |`;
  return [rule, line('Parameter', 'Value'), rule, ...rows.map(([a, b]) => line(a, b)), rule].join('\n') + '\n';
}

async function show(api: Api, uuid: string, values: Values, io: FaafoIo): Promise<void> {
  const record = await api.json<FractalRecord>('GET', `/v1/fractal/${uuid}`);
  io.stdout(values.json ? `${JSON.stringify(record, null, 2)}\n` : parameterTable(record));
}

async function remove(api: Api, uuid: string, io: FaafoIo): Promise<void> {
  await api.call('DELETE', `/v1/fractal/${uuid}`);
  io.stdout(`deleted ${uuid}\n`);
}

async function get(api: Api, uuid: string, values: Values, io: FaafoIo): Promise<void> {
  const output = str(values, 'output') ?? `${uuid}.png`;
  // The record first: a fractal still queued gets a clear message, and its checksum checks the download.
  const record = await api.json<FractalRecord>('GET', `/v1/fractal/${uuid}`);
  if (record.status !== 'done') throw new CliError(`fractal ${uuid} is not rendered yet (status ${record.status}); try again when \`faafo show ${uuid}\` says done`, exitCodes.apiError);
  const png = new Uint8Array(await (await api.call('GET', `/fractal/${uuid}`)).arrayBuffer());
  const checksum = createHash('sha256').update(png).digest('hex');
  if (record.checksum && checksum !== record.checksum) throw new CliError(`fractal ${uuid}: the PNG received does not match its checksum (${record.checksum}); nothing written`, exitCodes.apiError);
  try {
    await io.writeFile(output, png, { flag: values.force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError(`${output} exists; use --force to overwrite it`, exitCodes.apiError);
    throw new CliError(`cannot write ${output}: ${(error as Error).message}`, exitCodes.apiError);
  }
  io.stdout(`${output}\n`);
}

// --- Entry ---------------------------------------------------------------------------------------

/** Runs one `faafo` command line; answers its exit code. */
export async function runFaafo(argv: string[], io: FaafoIo): Promise<number> {
  try {
    const { command, rest } = findCommand(argv);
    if (command === undefined || command === 'help') {
      const wanted = command === 'help' ? rest.find((a) => !a.startsWith('-')) : undefined;
      if (command === undefined && !rest.includes('--help') && !rest.includes('-h')) {
        io.stderr(help.main + '\n');
        return exitCodes.usage;
      }
      io.stdout((wanted && wanted in commands ? help[wanted as Command] : help.main) + '\n');
      return exitCodes.ok;
    }
    if (!(command in commands)) throw usageError(`unknown command ${JSON.stringify(command)}: use one of ${Object.keys(commands).join(', ')}. See \`faafo --help\`.`);
    const name = command as Command;
    const { values, positionals } = parseCommandArgs(name, rest);
    if (values.help) {
      io.stdout(help[name] + '\n');
      return exitCodes.ok;
    }
    if (commands[name].positionals.length === 0 && positionals.length > 0) throw usageError(`faafo ${name} takes no arguments, got ${JSON.stringify(positionals[0])}. See \`faafo ${name} --help\`.`);
    const api = createApi(endpointOf(values, io.settings), io, values.debug === true);
    if (name === 'create') await create(api, values, io);
    else if (name === 'list') await list(api, values, io);
    else {
      const uuid = uuidArgument(name, positionals);
      if (name === 'show') await show(api, uuid, values, io);
      else if (name === 'delete') await remove(api, uuid, io);
      else await get(api, uuid, values, io);
    }
    return exitCodes.ok;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr(`${error.message}\n`);
    return error.exitCode;
  }
}

/** The process's own io: the environment through config.ts, the real fetch and files. */
export async function main(argv: string[]): Promise<number> {
  let settings: FaafoSettings;
  try {
    settings = faafoSettings();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return exitCodes.usage;
  }
  // `faafo list | head`: a reader that stops early is not an error (as for any Unix tool).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  return runFaafo(argv, {
    settings,
    fetch: (url, init) => fetch(url, init),
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    writeFile: (path, data, options) => writeFile(path, data, options),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}

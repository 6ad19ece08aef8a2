// List endpoints the way CC's ListMessage and PaginationPresenter behave: strict query parameters
// (unknown ones are a 400), per_page 1..5000 (default 50), page ≥ 1, order_by with an optional '-',
// comma-separated filters, label_selector, and first/last/next/previous links that keep the filters.
import type { Context } from 'hono';
import { cfErrors } from './errors.ts';
import type { Metadata } from './state.ts';
import type { SimEnv } from './context.ts';

interface Listable {
  seq: number;
  createdAt: number;
  updatedAt: number;
  metadata: Metadata;
  name?: string;
}

export interface ListSpec<T> {
  /** Filter parameter → does the item match one of the comma-separated values? */
  filters: Record<string, (item: T, values: string[]) => boolean>;
  /** Whether `order_by=name` is allowed (resources with a name). */
  orderByName?: boolean;
}

const PAGINATION_KEYS = ['page', 'per_page', 'order_by'];
/**
 * Every CC list takes `created_ats`/`updated_ats` (exact times, comma-separated) and their
 * `[lt]`, `[lte]`, `[gt]`, `[gte]` forms (app/messages/list_message.rb, timestamp_validator.rb), and
 * `include` where the resource has one; the simulator accepts `include` but renders no `included`.
 */
const TIMESTAMP_KEYS = ['created_ats', 'updated_ats'];
const TIMESTAMP_OPERATOR = /^(created_ats|updated_ats)\[(lt|lte|gt|gte)\]$/;

function timestampFilter(params: URLSearchParams): (item: Listable) => boolean {
  const checks: ((item: Listable) => boolean)[] = [];
  for (const [key, raw] of params) {
    const operator = TIMESTAMP_OPERATOR.exec(key);
    if (!TIMESTAMP_KEYS.includes(key) && !operator) continue;
    const field = (operator?.[1] ?? key) === 'created_ats' ? 'createdAt' : 'updatedAt';
    const times = raw.split(',').map((value) => {
      const ms = Date.parse(value);
      if (Number.isNaN(ms) || !/Z$/.test(value)) throw cfErrors.badQueryParameter(`${key} has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'`);
      return Math.floor(ms / 1000);
    });
    const at = (item: Listable) => Math.floor(item[field] / 1000);
    const op = operator?.[2];
    if (!op) checks.push((item) => times.includes(at(item)));
    else checks.push((item) => (op === 'lt' ? at(item) < times[0]! : op === 'lte' ? at(item) <= times[0]! : op === 'gt' ? at(item) > times[0]! : at(item) >= times[0]!));
  }
  return (item) => checks.every((check) => check(item));
}

/** Case-insensitive membership, as CC's name filters are. */
export const nameIn = (values: string[], name: string) => values.some((v) => v.toLowerCase() === name.toLowerCase());
const guidSets = new WeakMap<string[], Set<string>>();
/** Exact membership; a list of thousands of guids is turned into a set once per request. */
export function guidIn(values: string[], guid: string | null | undefined): boolean {
  let set = guidSets.get(values);
  if (!set) guidSets.set(values, (set = new Set(values)));
  return guid != null && set.has(guid);
}

export function listResponse<T extends Listable>(c: Context<SimEnv>, items: Iterable<T>, spec: ListSpec<T>, present: (item: T) => unknown): Response {
  const url = new URL(c.req.url);
  const params = url.searchParams;
  const allowed = [...PAGINATION_KEYS, 'label_selector', 'include', ...TIMESTAMP_KEYS, ...Object.keys(spec.filters)];
  const unknown = [...new Set(params.keys())].filter((key) => !allowed.includes(key) && !TIMESTAMP_OPERATOR.test(key));
  const problems: string[] = [];
  if (unknown.length > 0) {
    problems.push(`Unknown query parameter(s): ${unknown.map((k) => `'${k}'`).join(', ')}. Valid parameters are: ${allowed.map((k) => `'${k}'`).join(', ')}`);
  }
  const page = params.has('page') ? Number.parseInt(params.get('page')!, 10) : 1;
  if (!(page > 0)) problems.push('Page must be a positive integer');
  const perPage = params.has('per_page') ? Number.parseInt(params.get('per_page')!, 10) : 50;
  if (!(perPage > 0)) problems.push('Per page must be a positive integer');
  else if (perPage > 5000) problems.push('Per page must be between 1 and 5000');
  const orderFields = ['created_at', 'updated_at', ...(spec.orderByName ? ['name'] : [])];
  const orderBy = params.get('order_by') ?? 'created_at';
  const order = /^([+-]?)(.*)$/.exec(orderBy)!;
  if (!orderFields.includes(order[2]!)) problems.push(`Order by can only be: ${orderFields.map((f) => `'${f}'`).join(', ')}`);
  if (problems.length > 0) throw cfErrors.badQueryParameter(problems.join(', '));

  const selector = params.has('label_selector') ? parseLabelSelector(params.get('label_selector')!) : [];
  let selected = [...items].filter((item) => selector.every((requirement) => requirement(item.metadata.labels)));
  selected = selected.filter(timestampFilter(params));
  for (const [name, matches] of Object.entries(spec.filters)) {
    const raw = params.get(name);
    if (raw === null) continue;
    const values = raw.split(',');
    selected = selected.filter((item) => matches(item, values));
  }
  const direction = order[1] === '-' ? -1 : 1;
  const key = (item: T): number | string => (order[2] === 'name' ? (item.name ?? '') : order[2] === 'updated_at' ? item.updatedAt : item.createdAt);
  selected.sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return (x < y ? -1 : x > y ? 1 : a.seq - b.seq) * direction;
  });

  const totalPages = Math.max(1, Math.ceil(selected.length / perPage));
  const link = (target: number) => {
    const query = new URLSearchParams();
    const kept = [...params.entries()].filter(([k]) => k !== 'page' && k !== 'per_page');
    for (const [k, v] of [...kept, ['page', String(target)], ['per_page', String(perPage)]].sort(([a], [b]) => a!.localeCompare(b!))) query.append(k!, v!);
    return { href: `${c.var.linkBaseUrls.pagination}${url.pathname}?${query.toString()}` };
  };
  return c.json({
    pagination: {
      total_results: selected.length,
      total_pages: totalPages,
      first: link(1),
      last: link(totalPages),
      next: page < totalPages ? link(page + 1) : null,
      previous: page > 1 ? link(page - 1) : null,
    },
    resources: selected.slice((page - 1) * perPage, page * perPage).map(present),
  });
}

type Requirement = (labels: Record<string, string>) => boolean;

/** Kubernetes-style selectors as CC accepts them: key, !key, key=v, key==v, key!=v, key in (a,b), key notin (a,b). */
function parseLabelSelector(selector: string): Requirement[] {
  const parts = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return parts.map((part) => {
    const text = part.trim();
    let match: RegExpExecArray | null;
    if ((match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text))) {
      const [, key, operator, list] = match;
      const values = list!.split(',').map((v) => v.trim());
      return operator === 'in' ? (l) => key! in l && values.includes(l[key!]!) : (l) => !(key! in l) || !values.includes(l[key!]!);
    }
    if ((match = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(text))) {
      const [, key, operator, value] = match;
      return operator === '!=' ? (l) => l[key!] !== value : (l) => l[key!] === value;
    }
    if ((match = /^!([\w./-]+)$/.exec(text))) {
      const key = match[1]!;
      return (l) => !(key in l);
    }
    if ((match = /^([\w./-]+)$/.exec(text))) {
      const key = match[1]!;
      return (l) => key in l;
    }
    throw cfErrors.badQueryParameter('Invalid label_selector value');
  });
}

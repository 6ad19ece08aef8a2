// Vocabulary of the fractals domain (OpenStack's first app, FAAFO): one workflow per fractal on a task
// queue of its own, the render on the `fractals` task queue served by fractal worker processes, batches
// that start their fractals in slices. Shared by the workflows, the activities, the workers, the API
// (`/v1/fractal`, shaped as the original's Flask-Restless API), the `faafo` CLI, the UI and the tests.
// Everything here is pure: the Julia constant and a batch's tasks are chosen in workflows too.
import * as z from 'zod/mini';
import { idSchema, wholeNumber } from './validation.shared.ts';

/** Task queue of the fractal and fractalBatch workflows and their MySQL bookkeeping (the main worker). */
export const FRACTAL_JOBS_TASK_QUEUE = 'fractal-jobs';
/** Task queue of the render activity: only fractal worker processes (workers/fractalWorker.ts) poll it. */
export const FRACTALS_TASK_QUEUE = 'fractals';

export const fractalLimits = {
  maxSide: 4096,
  maxIterations: 10_000,
  /** Most fractals one batch (one call) may ask for. */
  maxTasks: 10_000,
} as const;

/** Records per page of `GET /v1/fractal?page=n`, as Flask-Restless answered. */
export const FRACTAL_API_PAGE_SIZE = 10;
/** Fractals per page of the gallery, as the original's index. */
export const FRACTAL_GALLERY_PAGE_SIZE = 5;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A fractal's uuid: canonical lowercase 8-4-4-4-12 hex (an uppercase one is taken and lowered). */
export const fractalUuidSchema = z.pipe(
  z.string({ error: 'must be a UUID such as 3f2b8c1e-…' }),
  z.transform((value) => value.toLowerCase()),
).check(z.refine((value: string) => uuidPattern.test(value), 'must be a UUID such as 0f8fad5b-d9cb-469f-a165-70867728950e'));

export function fractalWorkflowId(uuid: string): string {
  return `fractal-${uuid}`;
}
export function fractalUuidOf(workflowId: string): string | undefined {
  const uuid = workflowId.startsWith('fractal-') ? workflowId.slice('fractal-'.length) : '';
  return uuidPattern.test(uuid) ? uuid : undefined;
}
export const fractalWorkflowIdSchema = idSchema('a fractal workflow', (id) => fractalUuidOf(id) !== undefined);

export function fractalBatchWorkflowId(batchId: string): string {
  return `fractal-batch-${batchId}`;
}
export function fractalBatchIdOf(workflowId: string): string | undefined {
  const id = workflowId.startsWith('fractal-batch-') ? workflowId.slice('fractal-batch-'.length) : '';
  return uuidPattern.test(id) ? id : undefined;
}

/** The S3 key of a fractal's PNG: one object per uuid, so a retried render overwrites, never adds. */
export function fractalObjectKey(uuid: string): string {
  return `fractals/${uuid}.png`;
}
/** Where the API serves a fractal's PNG (the original's `/fractal/<uuid>`), relative to the API's origin. */
export function fractalImagePath(uuid: string): string {
  return `/fractal/${uuid}`;
}

const side = wholeNumber(1, fractalLimits.maxSide);
const iterations = wholeNumber(1, fractalLimits.maxIterations);
const coordinate = z.number({ error: 'must be a finite number' }).check(z.refine(Number.isFinite, 'must be a finite number'));

const viewShape = {
  width: side,
  height: side,
  iterations,
  xa: coordinate,
  xb: coordinate,
  ya: coordinate,
  yb: coordinate,
};

interface View {
  xa: number;
  xb: number;
  ya: number;
  yb: number;
  cx?: number;
  cy?: number;
}
/** The rectangle must have width and height: `xa < xb` and `ya < yb`, each problem naming its field. */
const ordered = z.superRefine((view: View, ctx) => {
  if (!(view.xa < view.xb)) ctx.addIssue({ code: 'custom', message: `must be greater than xa (${view.xa})`, path: ['xb'], input: view.xb });
  if (!(view.ya < view.yb)) ctx.addIssue({ code: 'custom', message: `must be greater than ya (${view.ya})`, path: ['yb'], input: view.yb });
  // The constant is one complex number: both parts, or neither (then it is chosen from the uuid).
  if ((view.cx === undefined) !== (view.cy === undefined)) {
    const missing = view.cx === undefined ? 'cx' : 'cy';
    ctx.addIssue({ code: 'custom', message: `must be given with ${missing === 'cx' ? 'cy' : 'cx'} (both parts of the constant, or neither)`, path: [missing], input: undefined });
  }
});

/** What a fractal is made from. `cx`, `cy` (the Julia constant) are chosen from the uuid when absent. */
export const fractalParamsSchema = z.strictObject({ ...viewShape, cx: z.optional(coordinate), cy: z.optional(coordinate) }).check(ordered);
export type FractalParams = z.infer<typeof fractalParamsSchema>;

/** `POST /v1/fractal`: the original's job (`uuid` optional: the API makes one), plus an optional `cx`, `cy`. */
export const fractalCreateSchema = z
  .strictObject({ uuid: z.optional(fractalUuidSchema), ...viewShape, cx: z.optional(coordinate), cy: z.optional(coordinate) })
  .check(ordered);
export type FractalCreate = z.input<typeof fractalCreateSchema>;

/** `PUT /v1/fractal/<uuid>`: new parameters (the rest kept); the fractal is rendered again. */
export const fractalUpdateSchema = z.strictObject({
  width: z.optional(side),
  height: z.optional(side),
  iterations: z.optional(iterations),
  xa: z.optional(coordinate),
  xb: z.optional(coordinate),
  ya: z.optional(coordinate),
  yb: z.optional(coordinate),
  cx: z.optional(coordinate),
  cy: z.optional(coordinate),
});
export type FractalUpdate = z.infer<typeof fractalUpdateSchema>;

/** A parameter of a batch: one value, or bounds to draw each fractal's value from (as the CLI's --min-width and --max-width). */
function rangeOf(value: z.ZodMiniType<number, number>) {
  return z.union([value, z.strictObject({ min: value, max: value }).check(z.refine((r: { min: number; max: number }) => r.min <= r.max, 'min must not exceed max'))]);
}

/** The original CLI's defaults (`faafo create`): sizes 256–1024, 128–512 iterations, the view's ranges. */
export const fractalBatchDefaults = {
  width: { min: 256, max: 1024 },
  height: { min: 256, max: 1024 },
  iterations: { min: 128, max: 512 },
  xa: { min: -4.0, max: -1.0 },
  xb: { min: 1.0, max: 4.0 },
  ya: { min: -3.0, max: -0.5 },
  yb: { min: 0.5, max: 3.0 },
} as const;

/**
 * A batch (`faafo create --tasks N`, `POST /v1/fractal-batches`, or `temporal workflow start` of
 * fractalBatch): N fractals whose parameters are drawn from the ranges, deterministically from the batch
 * ID, so a batch started again makes the same fractals (same uuids), never new ones.
 */
export const fractalBatchSpecSchema = z
  .strictObject({
    tasks: wholeNumber(1, fractalLimits.maxTasks),
    width: z.optional(rangeOf(side)),
    height: z.optional(rangeOf(side)),
    iterations: z.optional(rangeOf(iterations)),
    xa: z.optional(rangeOf(coordinate)),
    xb: z.optional(rangeOf(coordinate)),
    ya: z.optional(rangeOf(coordinate)),
    yb: z.optional(rangeOf(coordinate)),
    cx: z.optional(coordinate),
    cy: z.optional(coordinate),
  })
  .check(
    z.superRefine((spec, ctx) => {
      // Every drawn xa must stay below every drawn xb: the bounds may not overlap.
      for (const [low, high] of [['xa', 'xb'], ['ya', 'yb']] as const) {
        const lowMax = boundsOf(spec[low] ?? fractalBatchDefaults[low]).max;
        const highMin = boundsOf(spec[high] ?? fractalBatchDefaults[high]).min;
        if (!(lowMax < highMin)) ctx.addIssue({ code: 'custom', message: `must be greater than every ${low} (up to ${lowMax})`, path: [high], input: spec[high] });
      }
      // As for one fractal: both parts of the constant, or neither (then each fractal's is chosen from its uuid).
      if ((spec.cx === undefined) !== (spec.cy === undefined)) {
        const missing = spec.cx === undefined ? 'cx' : 'cy';
        ctx.addIssue({ code: 'custom', message: `must be given with ${missing === 'cx' ? 'cy' : 'cx'} (both parts of the constant, or neither)`, path: [missing], input: undefined });
      }
    }),
  );
export type FractalBatchSpec = z.infer<typeof fractalBatchSpecSchema>;

type Range = number | { min: number; max: number };
function boundsOf(range: Range): { min: number; max: number } {
  return typeof range === 'number' ? { min: range, max: range } : range;
}

export const fractalStatuses = ['queued', 'done'] as const;
export type FractalStatus = (typeof fractalStatuses)[number];

/** Everything a render needs: the image is a pure function of it. */
export interface FractalJob {
  uuid: string;
  width: number;
  height: number;
  iterations: number;
  xa: number;
  xb: number;
  ya: number;
  yb: number;
  cx: number;
  cy: number;
}

/** The record as the API answers it: the original's fields, plus `status`, the constant and when it was asked for. */
export interface FractalRecord extends FractalJob {
  /** SHA-256 of the PNG (hex); null until rendered. */
  checksum: string | null;
  /** Where the PNG is served (`/fractal/<uuid>`); null until rendered. */
  url: string | null;
  /** Seconds the render took on its worker. */
  duration: number | null;
  /** Bytes of the PNG. */
  size: number | null;
  /** The worker that rendered it (`pid@host`, its Temporal identity). */
  generated_by: string | null;
  status: FractalStatus;
  /** The batch that made it, if any. */
  batch_id: string | null;
  created_at: string;
}

/** `GET /v1/fractal?page=n`, as Flask-Restless answered it. */
export interface FractalPage {
  objects: FractalRecord[];
  num_results: number;
  page: number;
  total_pages: number;
}

/** Timeouts and retries of a fractal's activities; tests pass milliseconds. */
export const fractalTimingsSchema = z.strictObject({
  /** A render whose worker stopped heartbeating for this long (killed) is retried on another worker. */
  renderHeartbeatTimeoutMs: z.optional(wholeNumber(100)),
  /** Longest one render attempt may take. */
  renderTimeoutMs: z.optional(wholeNumber(100)),
  /** Longest wait between retries; retries never stop (a result is never dropped). */
  retryMaxIntervalMs: z.optional(wholeNumber(10)),
});
export type FractalTimings = z.infer<typeof fractalTimingsSchema>;
export const fractalTimingDefaults = { renderHeartbeatTimeoutMs: 15_000, renderTimeoutMs: 10 * 60_000, retryMaxIntervalMs: 30_000 } as const;

/** The fractal workflow's input: the job (cx, cy chosen from the uuid when absent), its batch and timings. */
export const fractalInputSchema = z.strictObject({
  uuid: fractalUuidSchema,
  ...viewShape,
  cx: z.optional(coordinate),
  cy: z.optional(coordinate),
  batchId: z.optional(fractalUuidSchema),
  /** Which parameters of the record these are (a PUT moves it on): an older render's result is not stored. */
  revision: z.optional(wholeNumber(1)),
  /** The record exists already (its batch recorded its slice at once): the workflow does not record it again. */
  recorded: z.optional(z.boolean()),
  timings: z.optional(fractalTimingsSchema),
}).check(ordered);
export type FractalInput = z.input<typeof fractalInputSchema>;

/** What a render made: the PNG is in object storage under fractalObjectKey(uuid). */
export interface RenderedFractal {
  uuid: string;
  checksum: string;
  size: number;
  /** Seconds spent rendering and encoding. */
  duration: number;
  generatedBy: string;
}

export const fractalBatchInputSchema = z.strictObject({
  batchId: fractalUuidSchema,
  spec: fractalBatchSpecSchema,
  /** The first task this run starts, and how many the earlier runs started (continue-as-new carries both). */
  next: z.optional(wholeNumber(0)),
  started: z.optional(wholeNumber(0)),
  timings: z.optional(fractalTimingsSchema),
  /** Fractals started at once, and per run before continuing as new (history stays short). */
  sliceSize: z.optional(wholeNumber(1, 500)),
  tasksPerRun: z.optional(wholeNumber(1, 2000)),
});
export type FractalBatchInput = z.input<typeof fractalBatchInputSchema>;
export const fractalBatchDefaultsOfRun = { sliceSize: 50, tasksPerRun: 500 } as const;

/** What a fractal workflow returns: the render, and whether its result was stored (not when the record changed or went meanwhile). */
export interface FractalResult extends RenderedFractal {
  recorded: boolean;
}

export interface FractalBatchResult {
  batchId: string;
  tasks: number;
  /** Fractals this batch started (others already existed: a batch started again). */
  started: number;
}

// --- Deterministic choices: the same uuid or batch always gives the same numbers. -----------------

/** A 128-bit hash of a string (cyrb128), as four 32-bit words. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A seeded generator of numbers in [0, 1) (sfc32), seeded from a string. */
export function seededRandom(seed: string): () => number {
  let [a, b, c, d] = hash128(seed);
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Iterations before z = z² + c escapes |z| > 2 from z = c, counted as the original's Python loop left `i`. */
export function escapeCount(cx: number, cy: number, maxIterations: number): number {
  let zr = cx,
    zi = cy,
    i = 0;
  for (; i < maxIterations; i++) {
    if (zr * zr + zi * zi > 4) break;
    const next = zr * zr - zi * zi + cx;
    zi = 2 * zr * zi + cy;
    zr = next;
  }
  // Python's `for i in range(n)` leaves i = n - 1 when it never breaks.
  return Math.min(i, maxIterations - 1);
}

const MAX_CONSTANT_DRAWS = 10_000;

/**
 * The Julia constant, as the original's `_set_point` chose it (a point of the view whose own orbit
 * escapes after more than 10 and fewer than 100 iterations), but drawn from a generator seeded with the
 * uuid instead of the clock: a retried render gives the same image. With too few iterations for any
 * point to pass (fewer than 12), the draw closest to the rule is taken.
 */
export function juliaConstantFor(uuid: string, view: Pick<FractalParams, 'xa' | 'xb' | 'ya' | 'yb' | 'iterations'>): { cx: number; cy: number } {
  const random = seededRandom(`julia:${uuid}`);
  let best = { cx: view.xa, cy: view.ya, miss: Number.POSITIVE_INFINITY };
  for (let draw = 0; draw < MAX_CONSTANT_DRAWS; draw++) {
    const cx = random() * (view.xb - view.xa) + view.xa;
    const cy = random() * (view.yb - view.ya) + view.ya;
    const i = escapeCount(cx, cy, view.iterations);
    if (i > 10 && i < 100) return { cx, cy };
    const miss = i <= 10 ? 11 - i : i - 99;
    if (miss < best.miss) best = { cx, cy, miss };
  }
  return { cx: best.cx, cy: best.cy };
}

/** A job's parameters with its constant: given, or chosen from the uuid. */
export function fractalJobOf(uuid: string, params: FractalParams): FractalJob {
  const { cx, cy } = params.cx !== undefined && params.cy !== undefined ? { cx: params.cx, cy: params.cy } : juliaConstantFor(uuid, params);
  return { uuid, width: params.width, height: params.height, iterations: params.iterations, xa: params.xa, xb: params.xb, ya: params.ya, yb: params.yb, cx, cy };
}

/** A random-looking but reproducible version-4 UUID for task `index` of a batch. */
export function batchTaskUuid(batchId: string, index: number): string {
  const hex = hash128(`task:${batchId}:${index}`)
    .map((word) => word.toString(16).padStart(8, '0'))
    .join('');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Task `index` of a batch: its uuid and parameters, drawn from the spec's ranges with a generator seeded by the batch and index. */
export function batchTask(batchId: string, spec: FractalBatchSpec, index: number): { uuid: string; params: FractalParams } {
  const random = seededRandom(`params:${batchId}:${index}`);
  const uniform = (range: Range) => {
    const { min, max } = boundsOf(range);
    return min + random() * (max - min);
  };
  const whole = (range: Range) => {
    const { min, max } = boundsOf(range);
    return min + Math.floor(random() * (max - min + 1));
  };
  const params: FractalParams = {
    width: whole(spec.width ?? fractalBatchDefaults.width),
    height: whole(spec.height ?? fractalBatchDefaults.height),
    iterations: whole(spec.iterations ?? fractalBatchDefaults.iterations),
    xa: uniform(spec.xa ?? fractalBatchDefaults.xa),
    xb: uniform(spec.xb ?? fractalBatchDefaults.xb),
    ya: uniform(spec.ya ?? fractalBatchDefaults.ya),
    yb: uniform(spec.yb ?? fractalBatchDefaults.yb),
    ...(spec.cx !== undefined && spec.cy !== undefined ? { cx: spec.cx, cy: spec.cy } : {}),
  };
  return { uuid: batchTaskUuid(batchId, index), params };
}

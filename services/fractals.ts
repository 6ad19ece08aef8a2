// Fractals (FAAFO): create a job (one workflow per uuid), batches, the records, their PNGs, changes and
// deletions. The records and PNGs are read from MySQL and object storage, never from workflows, so
// listing thousands costs no Temporal calls.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FleetDomain } from '../temporal/searchAttributes.ts';
import { fractal } from '../workflows/fractal.ts';
import { fractalBatch } from '../workflows/fractalBatch.ts';
import {
  FRACTAL_API_PAGE_SIZE,
  FRACTAL_GALLERY_PAGE_SIZE,
  fractalBatchWorkflowId,
  fractalJobOf,
  fractalParamsSchema,
  fractalWorkflowId,
  type FractalBatchSpec,
  type FractalCreate,
  type FractalInput,
  type FractalPage,
  type FractalRecord,
  type FractalTimings,
  type FractalUpdate,
} from '../workflows/fractals.shared.ts';
import { publicRecord, type BatchProgress, type FractalModel } from '../db/fractals.ts';
import { parseInput, ServiceError } from './errors.ts';
import type { WorkflowLinks } from './executions.ts';

/** Where the PNGs are (activities/fractals/storage.ts, S3): what the API serves and deletes. */
export interface FractalImages {
  get(uuid: string): Promise<Buffer | undefined>;
  delete(uuid: string): Promise<void>;
}

export interface FractalServiceDependencies {
  temporal: Client;
  model: FractalModel;
  images: FractalImages;
  /** Where fractal and fractalBatch workflows run (`fractal-jobs`, plus a test's suffix). */
  taskQueue: string;
  links: WorkflowLinks;
  /** Timings given to new fractals (tests pass milliseconds). */
  timings?: FractalTimings;
}

/** The record, with the ID of the workflow that makes it. */
export type FractalView = FractalRecord & { workflow_id: string };

const notFound = (uuid: string) => new ServiceError(404, 'not_found', `No fractal ${uuid}.`, { uuid });

function viewOf(record: FractalRecord): FractalView {
  return { ...record, workflow_id: fractalWorkflowId(record.uuid) };
}

async function startFractal(deps: FractalServiceDependencies, input: FractalInput): Promise<void> {
  await deps.temporal.workflow.start(fractal, {
    workflowId: fractalWorkflowId(input.uuid),
    taskQueue: deps.taskQueue,
    args: [{ ...input, ...(deps.timings ? { timings: deps.timings } : {}) }],
    typedSearchAttributes: [{ key: FleetDomain, value: 'fractals' }],
  });
}

async function createFractal(deps: FractalServiceDependencies, body: FractalCreate & { uuid?: string }): Promise<FractalView> {
  const { uuid = randomUUID(), ...params } = body;
  const exists = () => new ServiceError(409, 'already_exists', `Fractal ${uuid} exists: a uuid names one fractal (PUT changes it, DELETE removes it).`, { uuid });
  if (await deps.model.get(uuid)) throw exists();
  const job = fractalJobOf(uuid, params);
  try {
    // The workflow first: once it runs, the job is not lost whatever happens to this process (it
    // records itself too). A running one for this uuid is the same job posted twice.
    await startFractal(deps, job);
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw exists();
    throw error;
  }
  await deps.model.recordAccepted(job, undefined);
  return readFractal(deps, uuid);
}

async function readFractal(deps: FractalServiceDependencies, uuid: string): Promise<FractalView> {
  const record = await deps.model.get(uuid);
  if (!record) throw notFound(uuid);
  return viewOf(publicRecord(record));
}

async function updateFractal(deps: FractalServiceDependencies, uuid: string, body: FractalUpdate): Promise<FractalView> {
  const record = await deps.model.get(uuid);
  if (!record) throw notFound(uuid);
  if (record.status !== 'done') throw new ServiceError(409, 'not_rendered', `Fractal ${uuid} is still being rendered: change it once it is done.`, { uuid });
  const { width, height, iterations, xa, xb, ya, yb, cx, cy } = record;
  // The constant stays the record's unless the change gives one: a new view of the same Julia set.
  const params = parseInput(fractalParamsSchema, { width, height, iterations, xa, xb, ya, yb, cx, cy, ...body });
  const job = fractalJobOf(uuid, params);
  const revision = await deps.model.replaceJob(job);
  if (revision === undefined) throw new ServiceError(409, 'not_rendered', `Fractal ${uuid} changed meanwhile: read it again.`, { uuid });
  await startFractal(deps, { ...job, revision, ...(record.batch_id ? { batchId: record.batch_id } : {}) });
  return readFractal(deps, uuid);
}

async function deleteFractal(deps: FractalServiceDependencies, uuid: string): Promise<void> {
  const record = await deps.model.get(uuid);
  if (!record) throw notFound(uuid);
  // A render still running would store its result for a record that is gone: stop it first.
  try {
    const handle = deps.temporal.workflow.getHandle(fractalWorkflowId(uuid));
    const description = await handle.describe();
    if (description.status.name === 'RUNNING' && description.type === fractal.name) await handle.terminate('fractal deleted');
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  await deps.images.delete(uuid);
  await deps.model.delete(uuid);
}

async function imageOf(deps: FractalServiceDependencies, uuid: string): Promise<Buffer> {
  const record = await deps.model.get(uuid);
  if (!record) throw new ServiceError(404, 'not_found', 'Fracal not found', { uuid });
  if (record.status !== 'done') throw new ServiceError(404, 'not_rendered', `Fractal ${uuid} is not rendered yet.`, { uuid });
  const png = await deps.images.get(uuid);
  if (png) return png;
  // The store lost it (moto keeps objects in memory only): the render is deterministic, so the
  // same image is made again from the record, under the same revision.
  const { revision, batch_id: batchId, width, height, iterations, xa, xb, ya, yb, cx, cy } = record;
  try {
    await startFractal(deps, { uuid, width, height, iterations, xa, xb, ya, yb, cx, cy, revision, ...(batchId ? { batchId } : {}) });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  throw new ServiceError(503, 'image_rerendering', `Fractal ${uuid}'s image was not in object storage: it is being rendered again, try again in a moment.`, { uuid });
}

export interface BatchStarted {
  batch_id: string;
  tasks: number;
  workflow_id: string;
  web_ui_url: string;
}

async function createBatch(deps: FractalServiceDependencies, spec: FractalBatchSpec): Promise<BatchStarted> {
  const batchId = randomUUID();
  const workflowId = fractalBatchWorkflowId(batchId);
  // Recorded here too, so the gallery shows its progress bar from the first answer.
  await deps.model.recordBatch(batchId, spec.tasks);
  const handle = await deps.temporal.workflow.start(fractalBatch, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [{ batchId, spec, ...(deps.timings ? { timings: deps.timings } : {}) }],
    typedSearchAttributes: [{ key: FleetDomain, value: 'fractals' }],
  });
  return { batch_id: batchId, tasks: spec.tasks, workflow_id: workflowId, web_ui_url: deps.links.execution(workflowId, handle.firstExecutionRunId) };
}

async function batchProgress(deps: FractalServiceDependencies, batchId: string): Promise<BatchProgress> {
  const progress = await deps.model.batchProgress(batchId);
  if (!progress) throw new ServiceError(404, 'not_found', `No fractal batch ${batchId}.`, { batch_id: batchId });
  return progress;
}

export interface Gallery extends FractalPage {
  /** Batches still rendering, for their progress bars. */
  batches: BatchProgress[];
  counts: Record<FractalRecord['status'], number>;
}

async function gallery(deps: FractalServiceDependencies, page: number): Promise<Gallery> {
  const [rendered, batches, counts] = await Promise.all([deps.model.listRendered(page, FRACTAL_GALLERY_PAGE_SIZE), deps.model.unfinishedBatches(), deps.model.countByStatus()]);
  return { ...rendered, batches, counts };
}

export function createFractalService(deps: FractalServiceDependencies) {
  return {
    create: (body: FractalCreate & { uuid?: string }) => createFractal(deps, body),
    list: (page: number): Promise<FractalPage> => deps.model.list(page, FRACTAL_API_PAGE_SIZE),
    read: (uuid: string) => readFractal(deps, uuid),
    update: (uuid: string, body: FractalUpdate) => updateFractal(deps, uuid, body),
    delete: (uuid: string) => deleteFractal(deps, uuid),
    image: (uuid: string) => imageOf(deps, uuid),
    createBatch: (spec: FractalBatchSpec) => createBatch(deps, spec),
    batch: (batchId: string) => batchProgress(deps, batchId),
    gallery: (page: number) => gallery(deps, page),
  };
}

export type FractalService = ReturnType<typeof createFractalService>;

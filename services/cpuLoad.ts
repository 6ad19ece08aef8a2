// CPU-load toggles: read a target's state, switch it ON or OFF. Switching a target
// that has no workflow yet, or whose workflow ended idle, starts one (workflowIdConflictPolicy
// USE_EXISTING), then the switch goes through the workflow's update so the answer is the new state.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { FleetDomain, FleetStatus } from '../temporal/searchAttributes.ts';
import { cpuLoad } from '../workflows/cpuLoad.ts';
import {
  cpuLoadDefaults,
  cpuLoadStatusQuery,
  cpuLoadSwitchBodySchemaFor,
  cpuLoadWorkflowId,
  switchCpuLoadUpdate,
  type CpuLoadInput,
  type CpuLoadStatus,
  type CpuLoadSwitchBody,
} from '../workflows/cpuLoad.shared.ts';
import { parseInput } from './errors.ts';
import { requireType, type WorkflowLinks } from './executions.ts';

export interface CpuLoadServiceDependencies {
  temporal: Client;
  /** Where cpuLoad workflows run (the main worker). */
  controlTaskQueue: string;
  /** Where the load workers poll; given to new workflows. */
  loadTaskQueue: string;
  /** Load workers running (config.cpuLoad.loadWorkers): a new workflow runs that many slices at once. */
  loadWorkers: number;
  links: WorkflowLinks;
  /** Longest TTL a switch may ask for (config.cpuLoad.maxTtlMs); a longer one is a 400. Default 1 h. */
  maxTtlMs?: number;
  /** Settings for newly started workflows (tests shorten the slices and the idle period). */
  workflowSettings?: Pick<CpuLoadInput, 'sliceMs' | 'ttlMs' | 'historyThreshold' | 'maxSamples' | 'idleMs'>;
}

/** A target's state as the API and UI show it; a target never switched is OFF with no workflow. */
export type CpuLoadView = Omit<CpuLoadStatus, 'since' | 'lastChange'> &
  Pick<Partial<CpuLoadStatus>, 'lastChange'> & {
    since: string | null;
    workflowId: string;
    /** Whether a workflow holds this target's switch. */
    running: boolean;
    webUiUrl: string | null;
  };

const maxTtlMsOf = (deps: CpuLoadServiceDependencies) => deps.maxTtlMs ?? cpuLoadDefaults.maxTtlMs;

function workflowInput(deps: CpuLoadServiceDependencies, target: string): CpuLoadInput {
  const maxTtlMs = maxTtlMsOf(deps);
  const ttlMs = Math.min(deps.workflowSettings?.ttlMs ?? cpuLoadDefaults.ttlMs, maxTtlMs);
  return { target, parallelism: Math.max(1, deps.loadWorkers), loadTaskQueue: deps.loadTaskQueue, ...deps.workflowSettings, ttlMs, maxTtlMs };
}

function neverSwitched(deps: CpuLoadServiceDependencies, target: string): CpuLoadView {
  const input = workflowInput(deps, target);
  return {
    target,
    state: 'OFF',
    since: null,
    expiresAt: null,
    ttlMs: input.ttlMs!,
    maxTtlMs: input.maxTtlMs!,
    sliceMs: input.sliceMs ?? cpuLoadDefaults.sliceMs,
    parallelism: input.parallelism!,
    loadTaskQueue: deps.loadTaskQueue,
    runningSlices: 0,
    slicesCompleted: 0,
    lastSliceError: null,
    continuedAsNew: 0,
    memcached: null,
    samples: [],
    workflowId: cpuLoadWorkflowId(target),
    running: false,
    webUiUrl: null,
  };
}

async function readCpuLoad(deps: CpuLoadServiceDependencies, target: string): Promise<CpuLoadView> {
  const handle = deps.temporal.workflow.getHandle(cpuLoadWorkflowId(target));
  try {
    const description = await handle.describe();
    // A closed workflow (ended idle, or terminated by hand) holds no switch: OFF; its load workers were cancelled.
    if (description.status.name !== 'RUNNING') return neverSwitched(deps, target);
    // Only a cpuLoad workflow is asked: another type under the target's ID is a 404.
    requireType(description, [cpuLoad.name]);
    const status = await handle.query(cpuLoadStatusQuery);
    return { ...status, workflowId: handle.workflowId, running: true, webUiUrl: deps.links.execution(handle.workflowId, description.runId) };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return neverSwitched(deps, target);
    throw error;
  }
}

async function switchCpuLoad(deps: CpuLoadServiceDependencies, target: string, body: CpuLoadSwitchBody): Promise<CpuLoadView> {
  const request = parseInput(cpuLoadSwitchBodySchemaFor(maxTtlMsOf(deps)), body);
  // A workflow may end idle between the start and the update: the switch then starts a new run.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startAndSwitch(deps, target, request);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || attempt >= 3) throw error;
    }
  }
}

async function startAndSwitch(deps: CpuLoadServiceDependencies, target: string, body: CpuLoadSwitchBody): Promise<CpuLoadView> {
  const workflowId = cpuLoadWorkflowId(target);
  await deps.temporal.workflow.start(cpuLoad, {
    workflowId,
    taskQueue: deps.controlTaskQueue,
    args: [workflowInput(deps, target)],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [{ key: FleetDomain, value: 'cpu-load' }, { key: FleetStatus, value: 'off' }],
  });
  // By ID, not by the run start returned: the running run may be a later one (continue-as-new).
  const handle = deps.temporal.workflow.getHandle(workflowId);
  // A running workflow of another type under the target's ID (started by hand) is not switched: 404.
  requireType(await handle.describe(), [cpuLoad.name]);
  const status = await handle.executeUpdate(switchCpuLoadUpdate, {
    args: [{ state: body.state, ...(body.ttlSeconds === undefined ? {} : { ttlMs: body.ttlSeconds * 1000 }) }],
  });
  const { runId } = await handle.describe();
  return { ...status, workflowId, running: true, webUiUrl: deps.links.execution(workflowId, runId) };
}

export function createCpuLoadService(deps: CpuLoadServiceDependencies) {
  return {
    /** A switch as the API and the UI take it, its TTL bounded by this service's maximum. */
    switchBodySchema: cpuLoadSwitchBodySchemaFor(maxTtlMsOf(deps)),
    read: (target: string) => readCpuLoad(deps, target),
    switch: (target: string, body: CpuLoadSwitchBody) => switchCpuLoad(deps, target, body),
  };
}

export type CpuLoadService = ReturnType<typeof createCpuLoadService>;

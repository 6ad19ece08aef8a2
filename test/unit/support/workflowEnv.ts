// Workflow tests without the shared stack, in the style of sdk-typescript's helpers-integration.ts:
// per test file one time-skipping Temporal test server (in memory) and one worker on a task queue of
// its own, loaded with the bundle the unit tier's global setup built; every workflow run brings the
// stub activities its test needs. (One worker per file, not per run: creating a worker loads the
// bundle into a new V8 context, about 0.4 s each on two cores.)
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { activityInfo, Context } from '@temporalio/activity';
import type { Workflow, WorkflowHandleWithFirstExecutionRunId, WorkflowResultType, WorkflowStartOptions } from '@temporalio/client';
import { ApplicationFailure, type WithWorkflowArgs } from '@temporalio/common';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { projectSearchAttributes } from '../../../temporal/searchAttributes.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;

/**
 * A workflow's arguments (as for `client.workflow.start`), the stub activities it may call (a call
 * without a stub fails, non-retryably) and, optionally, its ID.
 */
export type WorkflowRun<W extends Workflow> = WithWorkflowArgs<W, { activities?: object; workflowId?: string }>;

export interface WorkflowTestEnvironment {
  /** The file's environment (inside tests and hooks). */
  readonly env: TestWorkflowEnvironment;
  /** The task queue of the file's worker (for workflows that route activities by task queue). */
  readonly taskQueue: string;
  /** Runs `workflow` with these stubs and returns its result (a failed workflow rejects with WorkflowFailedError). */
  runWorkflow<W extends Workflow>(workflow: W, run: WorkflowRun<W>): Promise<WorkflowResultType<W>>;
  /** Starts `workflow` with these stubs and runs `body` with its handle. */
  withWorkflow<W extends Workflow, T>(workflow: W, run: WorkflowRun<W>, body: (handle: WorkflowHandleWithFirstExecutionRunId<W>) => Promise<T>): Promise<T>;
  /** The stubs the workflow `workflowId` (a child the test's workflow starts) may call. */
  stubsFor(workflowId: string, activities: object): void;
}

// Failures are what these tests are about: the worker's "Activity failed" and "Workflow failed"
// warnings and the test server's missing capabilities would only bury a real problem.
const expectedNoise = [/^Activity failed$/, /^Workflow failed$/, /activity_failure_include_heartbeat/];

/** Hides log lines a test file provokes on purpose (e.g. a workflow's warning about a failing stub). */
export function expectLogLines(...patterns: RegExp[]): void {
  expectedNoise.push(...patterns);
}

function quietLog(entry: LogEntry): void {
  if (expectedNoise.some((pattern) => pattern.test(entry.message))) return;
  console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
}

let runtimeInstalled = false;

/** The SDK's runtime, once per process, logging as these tests want it. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN', quietLog), telemetryOptions: { logging: { forward: {} } } });
  runtimeInstalled = true;
}

/**
 * Registers the file's beforeAll/afterAll. Time skips only while a test awaits a workflow's
 * result (or calls `env.sleep`), and it is the file's server's time: tests in a file run in turn.
 */
export function useWorkflowTestEnvironment(): WorkflowTestEnvironment {
  const { testServerPath, workflowBundlePath } = inject('unitEnv');
  const taskQueue = `unit-${randomUUID()}`;
  const stubsByWorkflowId = new Map<string, object>();
  let env: TestWorkflowEnvironment | undefined;
  let worker: Worker | undefined;
  let stopped: Promise<never> | undefined;

  /** The worker's only activity: it hands each call to the stub of the workflow that made it. */
  async function dispatch(...args: unknown[]): Promise<unknown> {
    const { activityType, workflowExecution } = activityInfo();
    const stub = (stubsByWorkflowId.get(workflowExecution?.workflowId ?? '') as Record<string, unknown> | undefined)?.[activityType];
    if (typeof stub !== 'function') throw ApplicationFailure.nonRetryable(`The test has no stub for activity ${activityType}`, 'NoStub');
    return (stub as (...a: unknown[]) => Promise<unknown>)(...args);
  }

  beforeAll(async () => {
    installRuntime();
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath } } });
    // The test server has no listSearchAttributes, so they are added outright (all Keyword).
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(projectSearchAttributes.map((key) => [key.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: { codePath: workflowBundlePath },
      activities: { default: dispatch },
      // Cancellation reaches an activity in a heartbeat's answer: send heartbeats at once.
      maxHeartbeatThrottleInterval: '50 milliseconds',
      defaultHeartbeatThrottleInterval: '50 milliseconds',
    });
    const running = worker.run();
    stopped = running.then(() => Promise.reject(new Error('The test worker stopped')));
    stopped.catch(() => {}); // only observed through races with a test's body
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await stopped?.catch(() => {});
    await env?.teardown();
  });

  const current = (): TestWorkflowEnvironment => {
    if (!env || !stopped) throw new Error('The workflow test environment is only available inside tests and hooks');
    return env;
  };

  async function withWorkflow<W extends Workflow, T>(workflow: W, run: WorkflowRun<W>, body: (handle: WorkflowHandleWithFirstExecutionRunId<W>) => Promise<T>): Promise<T> {
    const testEnv = current();
    const workflowId = run.workflowId ?? `unit-${randomUUID()}`;
    stubsByWorkflowId.set(workflowId, run.activities ?? {});
    const { activities: _stubs, ...start } = run;
    const handle = await testEnv.client.workflow.start(workflow, { ...start, taskQueue, workflowId } as WorkflowStartOptions<W>);
    return Promise.race([body(handle), stopped!]);
  }

  return {
    get env() {
      return current();
    },
    taskQueue,
    withWorkflow,
    stubsFor: (workflowId, activities) => void stubsByWorkflowId.set(workflowId, activities),
    runWorkflow: (workflow, run) => withWorkflow(workflow, run, (handle) => handle.result()),
  };
}

/** A promise and the function that settles it: how a stub activity tells its test it was reached. */
export function signalled<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** A stub activity's body that heartbeats until its cancellation arrives, then throws it. */
export async function heartbeatUntilCancelled(): Promise<never> {
  const context = Context.current();
  for (;;) {
    context.heartbeat();
    await context.sleep(50); // rejects with the CancelledFailure
  }
}

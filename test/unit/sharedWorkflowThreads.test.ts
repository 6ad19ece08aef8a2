// Workers of one class from workerClassSharingWorkflowThreads, with one bundle, run their workflows in
// one workflow thread: the second Worker starts no thread of its own, both queues' workflows run, and
// the thread stays until the last of them shuts down. On the time-skipping test server, with the
// bundle the unit tier's global setup built.
import { readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import proto from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { HealthActivities } from '../../activities/health.ts';
import { projectSearchAttributes } from '../../temporal/searchAttributes.ts';
import { healthCheck } from '../../workflows/healthCheck.ts';
import { workerClassSharingWorkflowThreads } from '../../workers/sharedWorkflowThreads.ts';
import { installRuntime } from './support/workflowEnv.ts';

const { IndexedValueType } = proto.temporal.api.enums.v1;
/** This process's OS threads: a workflow thread is a Node worker thread, several OS threads. */
const threads = () => readdirSync('/proc/self/task').length;

describe('workers sharing a workflow thread', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    installRuntime();
    env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: inject('unitEnv').testServerPath } } });
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(projectSearchAttributes.map((key) => [key.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  });
  afterAll(() => env?.teardown());

  const activities: Pick<HealthActivities, 'checkDependency' | 'recordHealthReport'> = {
    checkDependency: async (name) => ({ name, ok: true, latencyMs: 1, detail: 'stub' }),
    recordHealthReport: async () => undefined,
  };
  const check = (taskQueue: string) => env.client.workflow.execute(healthCheck, { taskQueue, workflowId: `shared-${randomUUID()}`, args: [{ dependencies: ['etcd'] }] });

  it('starts one thread for two Workers, runs both queues, and ends it with the last Worker', async () => {
    const SharingWorker = workerClassSharingWorkflowThreads();
    const options = (taskQueue: string) => ({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: { codePath: inject('unitEnv').workflowBundlePath }, activities });
    const [queueA, queueB] = [`shared-a-${randomUUID()}`, `shared-b-${randomUUID()}`];

    const before = threads();
    const first = await SharingWorker.create(options(queueA));
    const withFirst = threads();
    const second = await SharingWorker.create(options(queueB));
    const withBoth = threads();
    expect(withFirst).toBeGreaterThan(before);
    expect(withBoth - withFirst, 'threads the second Worker added').toBeLessThan(withFirst - before);

    const running = [first.run(), second.run()];
    expect((await check(queueA)).healthy).toBe(true);
    expect((await check(queueB)).healthy).toBe(true);

    // The first Worker's end leaves the thread to the second.
    first.shutdown();
    await running[0];
    expect((await check(queueB)).healthy).toBe(true);
    second.shutdown();
    await running[1];

    // A plain Worker still gets a thread of its own: the control for the count above.
    const plainBefore = threads();
    const plain = await Worker.create(options(`plain-${randomUUID()}`));
    expect(threads() - plainBefore).toBeGreaterThan(withBoth - withFirst);
    const plainRun = plain.run();
    plain.shutdown();
    await plainRun;
  });
});

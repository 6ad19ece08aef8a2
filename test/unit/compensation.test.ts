// Compensations outlast an outage: deployNode's undo steps are retried until they succeed (at most
// timings.compensationRetryMaxMs apart), so a long outage of EC2 or MySQL never leaves an instance
// running or a node row behind.
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { deployNode } from '../../workflows/deployNode.ts';
import type { RunbookStatus } from '../../workflows/nodes.shared.ts';
import { stubNodeActivities } from './support/nodes.ts';
import { useWorkflowTestEnvironment } from './support/workflowEnv.ts';

const { runWorkflow } = useWorkflowTestEnvironment();

describe('deployNode compensations (stub activities)', () => {
  it('retries terminating the instance and releasing the node through a 25-attempt outage, then rolls back', async () => {
    const OUTAGE = 25;
    const attempts = { terminate: 0, release: 0 };
    const stubs = stubNodeActivities({
      failAt: 'waitInstanceRunning',
      overrides: {
        async terminateDeploymentInstances() {
          if (++attempts.terminate <= OUTAGE) throw ApplicationFailure.retryable('EC2 endpoint unreachable', 'NetworkingError');
          return ['i-0abc'];
        },
        async releaseReservation() {
          if (++attempts.release <= OUTAGE) throw ApplicationFailure.retryable('MySQL: connect ECONNREFUSED', 'ConnectionRefused');
        },
      },
    });
    const timings = { pollMs: 1, compensationRetryMaxMs: 5 };
    const failure = await runWorkflow(deployNode, { args: [{ cluster: 'web', deploymentId: 'dep-1', timings }], activities: stubs.activities }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const status = ((failure as WorkflowFailedError).cause as ApplicationFailure).details?.[0] as RunbookStatus;
    expect(attempts).toEqual({ terminate: OUTAGE + 1, release: OUTAGE + 1 });
    expect(status.state).toBe('rolled-back');
    expect(status.steps.find((s) => s.name === 'launch')?.status).toBe('compensated');
    expect(status.steps.find((s) => s.name === 'reserve')?.status).toBe('compensated');
  });
});

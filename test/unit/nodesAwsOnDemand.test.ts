// The nodes worker's AWS activities load the SDK at their first call: the same names as aws.ts's
// activities, the clients asked for once and only when an activity runs, and aws.ts's errors unchanged.
import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { createAwsActivities, type AwsClients } from '../../activities/nodes/aws.ts';
import { AWS_ACTIVITY_NAMES, createAwsActivitiesOnDemand } from '../../activities/nodes/awsOnDemand.ts';
import { createSshEndpointResolver } from '../../activities/nodes/sshEndpoint.ts';
import { loadConfig } from '../../config.ts';

const resolveSshEndpoint = createSshEndpointResolver('local-sshd', loadConfig({}).ssh.sshd);

/** Clients whose ELBv2 calls all fail with `error`; EC2 is not expected to be called. */
function failingElb(error: Error): AwsClients {
  const send = async () => {
    throw error;
  };
  return { ec2: () => ({ send }) as never, elb: () => ({ send }) as never, destroy: () => {} };
}

const target = { region: 'us-east-1', targetGroup: 'fleet-web', instanceId: 'i-0abc', port: null };

describe('AWS activities on demand', () => {
  it('registers exactly the names of aws.ts’s activities', () => {
    const real = createAwsActivities({ aws: failingElb(new Error('unused')), resolveSshEndpoint });
    const onDemand = createAwsActivitiesOnDemand({ aws: async () => failingElb(new Error('unused')), resolveSshEndpoint });
    expect(Object.keys(onDemand).sort()).toEqual(Object.keys(real).sort());
    expect([...AWS_ACTIVITY_NAMES].sort()).toEqual(Object.keys(real).sort());
  });

  it('asks for the clients at the first call, once', async () => {
    let asked = 0;
    const activities = createAwsActivitiesOnDemand({
      aws: async () => {
        asked++;
        return failingElb(Object.assign(new Error('no such group'), { name: 'TargetGroupNotFoundException' }));
      },
      resolveSshEndpoint,
    });
    expect(asked).toBe(0);
    await activities.deregisterTarget(target);
    await Promise.all([activities.deregisterTarget(target), activities.deregisterTarget(target)]);
    expect(asked).toBe(1);
  });

  it('fails as aws.ts does: refusals non-retryable with their type, other errors as they came', async () => {
    const missing = createAwsActivitiesOnDemand({ aws: async () => failingElb(Object.assign(new Error('no such group'), { name: 'TargetGroupNotFoundException' })), resolveSshEndpoint });
    const refusal = await missing.registerTarget(target).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    expect(refusal).toMatchObject({ type: 'TargetGroupNotFound', nonRetryable: true });

    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    const busy = createAwsActivitiesOnDemand({ aws: async () => failingElb(throttled), resolveSshEndpoint });
    await expect(busy.registerTarget(target)).rejects.toBe(throttled);
  });
});

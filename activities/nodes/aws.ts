// EC2 and ELBv2 activities: thin adapters over the AWS SDK's commands and waiters. The same code
// runs against AWS and against moto's server; only the endpoint and credentials differ. The worker
// loads this module at the first call (awsOnDemand.ts); tools and tests import it directly.
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStatusOk,
  waitUntilInstanceTerminated,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  waitUntilTargetDeregistered,
  waitUntilTargetInService,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Config } from '../../config.ts';
import type { SshEndpointResolver } from './sshEndpoint.ts';
import { NODE_TAGS, USER_DATA_WITHHELD, type Ec2Profile } from '../../workflows/nodes.shared.ts';

export interface AwsClients {
  ec2(region: string): EC2Client;
  elb(region: string): ElasticLoadBalancingV2Client;
  destroy(): void;
}

export function createAwsClients(aws: Config['aws']): AwsClients {
  const ec2 = new Map<string, EC2Client>();
  const elb = new Map<string, ElasticLoadBalancingV2Client>();
  // Retries of a call belong to Temporal's retry policy; the SDK retries only throttling briefly.
  const options = (region: string) => ({ region, endpoint: aws.endpoint, credentials: aws.credentials, maxAttempts: 3 });
  return {
    ec2(region) {
      if (!ec2.has(region)) ec2.set(region, new EC2Client(options(region)));
      return ec2.get(region)!;
    },
    elb(region) {
      if (!elb.has(region)) elb.set(region, new ElasticLoadBalancingV2Client(options(region)));
      return elb.get(region)!;
    },
    destroy() {
      for (const client of [...ec2.values(), ...elb.values()]) client.destroy();
    },
  };
}

/** Runs an SDK waiter with heartbeats, so a dead worker is noticed in seconds rather than at the timeout. */
async function waitWithHeartbeat(what: string, wait: (abortSignal: AbortSignal) => ReturnType<typeof waitUntilInstanceRunning>): Promise<void> {
  const context = Context.current();
  const beat = setInterval(() => heartbeat(what), 1000);
  try {
    const result = await wait(context.cancellationSignal);
    if (result.state !== 'SUCCESS') {
      const reason = result.reason ? `: ${describeReason(result.reason)}` : '';
      throw ApplicationFailure.nonRetryable(`${what} ended in ${result.state}${reason}`, `Waiter${result.state}`);
    }
  } catch (error) {
    // waitUntil* throws on FAILURE/TIMEOUT with the observed state in its message.
    if (error instanceof ApplicationFailure) throw error;
    throw ApplicationFailure.nonRetryable(`${what} failed: ${(error as Error).message}`, 'WaiterFailed');
  } finally {
    clearInterval(beat);
  }
}

function describeReason(reason: unknown): string {
  if (reason && typeof reason === 'object' && 'message' in reason) return String((reason as Error).message);
  return JSON.stringify(reason).slice(0, 300);
}

function waiterTiming(timeoutMs: number, pollMs: number) {
  const minDelay = Math.max(0.05, pollMs / 1000);
  return { maxWaitTime: Math.max(minDelay * 2, timeoutMs / 1000), minDelay, maxDelay: Math.max(minDelay, Math.min(120, minDelay * 8)) };
}

/** EC2 names errors by code (`InvalidInstanceID.NotFound`), ELBv2 by shape (`InvalidTargetException`). */
export function isAwsError(error: unknown, ...codes: string[]): boolean {
  const name = (error as { name?: string })?.name ?? '';
  return codes.some((code) => name === code || name === `${code}Exception` || name.startsWith(`${code}.`));
}

export interface LaunchRequest {
  deploymentId: string;
  clientToken: string;
  cluster: string;
  node: string;
  profile: Ec2Profile;
}

export interface WaitRequest {
  region: string;
  instanceId: string;
  timeoutMs: number;
  pollMs: number;
}

export interface TargetRequest {
  region: string;
  targetGroup: string;
  instanceId: string;
  port: number | null;
}

export function createAwsActivities(deps: {
  aws: AwsClients;
  resolveSshEndpoint: SshEndpointResolver;
  /** The profile's real user data (the workflow carries only a placeholder). */
  userDataOf?: (profile: string) => Promise<string | null | undefined>;
}) {
  const { aws } = deps;

  async function instancesOfDeployment(region: string, deploymentId: string): Promise<Instance[]> {
    const response = await aws.ec2(region).send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${NODE_TAGS.deployment}`, Values: [deploymentId] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      }),
    );
    return (response.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }

  async function targetGroupArn(region: string, targetGroup: string): Promise<string> {
    if (targetGroup.startsWith('arn:')) return targetGroup;
    try {
      const response = await aws.elb(region).send(new DescribeTargetGroupsCommand({ Names: [targetGroup] }));
      const arn = response.TargetGroups?.[0]?.TargetGroupArn;
      if (arn) return arn;
    } catch (error) {
      if (!isAwsError(error, 'TargetGroupNotFound')) throw error;
    }
    throw ApplicationFailure.nonRetryable(`No target group named ${JSON.stringify(targetGroup)} in ${region}.`, 'TargetGroupNotFound');
  }

  return {
    /**
     * Launches the node's instance, tagged at launch. Idempotent twice over: EC2's ClientToken makes
     * a repeated RunInstances return the same instance, and (for endpoints that ignore the token, as
     * moto does) an instance already tagged with this deployment is returned instead of a new one.
     */
    async launchInstance(request: LaunchRequest): Promise<{ instanceId: string; reused: boolean }> {
      const { profile } = request;
      const userData = profile.userData === USER_DATA_WITHHELD ? await deps.userDataOf?.(profile.name) : profile.userData;
      const [existing] = await instancesOfDeployment(profile.region, request.deploymentId);
      if (existing?.InstanceId) return { instanceId: existing.InstanceId, reused: true };
      try {
        const response = await aws.ec2(profile.region).send(
          new RunInstancesCommand({
            ImageId: profile.imageId,
            InstanceType: profile.instanceType as never,
            KeyName: profile.keyName ?? undefined,
            SecurityGroupIds: profile.securityGroups.length > 0 ? profile.securityGroups : undefined,
            SubnetId: profile.subnetId ?? undefined,
            UserData: userData ? Buffer.from(userData).toString('base64') : undefined,
            MinCount: 1,
            MaxCount: 1,
            ClientToken: request.clientToken,
            TagSpecifications: [
              {
                ResourceType: 'instance',
                Tags: [
                  { Key: NODE_TAGS.name, Value: request.node },
                  { Key: NODE_TAGS.cluster, Value: request.cluster },
                  { Key: NODE_TAGS.deployment, Value: request.deploymentId },
                ],
              },
            ],
          }),
        );
        const instanceId = response.Instances?.[0]?.InstanceId;
        if (!instanceId) throw new Error('RunInstances returned no instance');
        return { instanceId, reused: false };
      } catch (error) {
        // Bad parameters will not get better by retrying; capacity and throttling may.
        if (isAwsError(error, 'InvalidAMIID', 'InvalidParameterValue', 'InvalidSubnetID', 'InvalidGroup', 'InvalidKeyPair', 'UnauthorizedOperation')) {
          throw ApplicationFailure.nonRetryable(`RunInstances refused: ${(error as Error).message}`, 'LaunchRefused');
        }
        throw error;
      }
    },

    async waitInstanceRunning(request: WaitRequest & { sshPort: number | null }) {
      await waitWithHeartbeat(`Instance ${request.instanceId} running`, (abortSignal) =>
        waitUntilInstanceRunning({ client: aws.ec2(request.region), abortSignal, ...waiterTiming(request.timeoutMs, request.pollMs) }, { InstanceIds: [request.instanceId] }),
      );
      const response = await aws.ec2(request.region).send(new DescribeInstancesCommand({ InstanceIds: [request.instanceId] }));
      const instance = response.Reservations?.[0]?.Instances?.[0];
      const addresses = {
        instanceId: request.instanceId,
        privateIp: instance?.PrivateIpAddress ?? null,
        publicIp: instance?.PublicIpAddress ?? null,
        publicDns: instance?.PublicDnsName || null,
      };
      const ssh = deps.resolveSshEndpoint(addresses, request.sshPort);
      return { ...addresses, sshHost: ssh.host, sshPort: ssh.port };
    },

    async waitInstanceStatusOk(request: WaitRequest): Promise<void> {
      await waitWithHeartbeat(`Instance ${request.instanceId} status checks`, (abortSignal) =>
        waitUntilInstanceStatusOk({ client: aws.ec2(request.region), abortSignal, ...waiterTiming(request.timeoutMs, request.pollMs) }, { InstanceIds: [request.instanceId] }),
      );
    },

    /**
     * Terminates every instance this deployment launched (normally one). Works when the launch's
     * answer was lost, since it finds instances by their deployment tag. Terminating twice is fine.
     */
    async terminateDeploymentInstances(request: { region: string; deploymentId: string; instanceId?: string | null }): Promise<string[]> {
      const found = (await instancesOfDeployment(request.region, request.deploymentId)).map((i) => i.InstanceId!);
      const ids = [...new Set([...found, ...(request.instanceId ? [request.instanceId] : [])])];
      if (ids.length === 0) return [];
      try {
        await aws.ec2(request.region).send(new TerminateInstancesCommand({ InstanceIds: ids }));
      } catch (error) {
        if (!isAwsError(error, 'InvalidInstanceID.NotFound')) throw error;
        // One unknown ID fails the whole call: terminate the ones EC2 does know.
        if (found.length > 0) await aws.ec2(request.region).send(new TerminateInstancesCommand({ InstanceIds: found }));
      }
      return ids;
    },

    async waitInstanceTerminated(request: WaitRequest): Promise<void> {
      // An instance EC2 no longer knows is as gone as a terminated one (moto forgets at a restart;
      // AWS forgets terminated instances after about an hour).
      try {
        await aws.ec2(request.region).send(new DescribeInstancesCommand({ InstanceIds: [request.instanceId] }));
      } catch (error) {
        if (isAwsError(error, 'InvalidInstanceID.NotFound')) return;
        throw error;
      }
      await waitWithHeartbeat(`Instance ${request.instanceId} terminated`, (abortSignal) =>
        waitUntilInstanceTerminated({ client: aws.ec2(request.region), abortSignal, ...waiterTiming(request.timeoutMs, request.pollMs) }, { InstanceIds: [request.instanceId] }),
      );
    },

    async registerTarget(request: TargetRequest): Promise<{ targetGroupArn: string }> {
      const arn = await targetGroupArn(request.region, request.targetGroup);
      try {
        await aws.elb(request.region).send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: request.instanceId, Port: request.port ?? undefined }] }));
      } catch (error) {
        if (isAwsError(error, 'InvalidTarget', 'TooManyTargets')) throw ApplicationFailure.nonRetryable(`RegisterTargets refused: ${(error as Error).message}`, 'RegistrationRefused');
        throw error;
      }
      return { targetGroupArn: arn };
    },

    /** Deregisters the node; a target that is not registered counts as done, as on AWS (moto raises InvalidTarget). */
    async deregisterTarget(request: TargetRequest): Promise<void> {
      let arn: string;
      try {
        arn = await targetGroupArn(request.region, request.targetGroup);
      } catch (error) {
        // No such group: nothing can be registered in it.
        if (error instanceof ApplicationFailure && error.type === 'TargetGroupNotFound') return;
        throw error;
      }
      try {
        await aws.elb(request.region).send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: request.instanceId, Port: request.port ?? undefined }] }));
      } catch (error) {
        if (!isAwsError(error, 'InvalidTarget')) throw error;
      }
    },

    async waitTargetHealthy(request: TargetRequest & { timeoutMs: number; pollMs: number }): Promise<void> {
      const arn = await targetGroupArn(request.region, request.targetGroup);
      await waitWithHeartbeat(`Target ${request.instanceId} healthy`, (abortSignal) =>
        waitUntilTargetInService(
          { client: aws.elb(request.region), abortSignal, ...waiterTiming(request.timeoutMs, request.pollMs) },
          { TargetGroupArn: arn, Targets: [{ Id: request.instanceId, Port: request.port ?? undefined }] },
        ),
      );
    },

    async waitTargetDrained(request: TargetRequest & { timeoutMs: number; pollMs: number }): Promise<void> {
      const arn = await targetGroupArn(request.region, request.targetGroup);
      await waitWithHeartbeat(`Target ${request.instanceId} drained`, (abortSignal) =>
        waitUntilTargetDeregistered(
          { client: aws.elb(request.region), abortSignal, ...waiterTiming(request.timeoutMs, request.pollMs) },
          { TargetGroupArn: arn, Targets: [{ Id: request.instanceId, Port: request.port ?? undefined }] },
        ),
      );
    },
  };
}

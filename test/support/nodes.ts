// Helpers for tests of clusters and nodes: a cluster of their own, and what moto and the SMTP sink hold.
import { randomUUID } from 'node:crypto';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Client } from '@temporalio/client';
import { expect } from 'vitest';
import { mailboxUrl, type Config } from '../../config.ts';
import type { App } from '../../server/app.ts';
import type { AwsClients } from '../../activities/nodes/aws.ts';
import { LOCAL_TARGET_GROUP } from '../../scripts/localFleet.ts';
import { NODE_TAGS, type NodeTimings } from '../../workflows/nodes.shared.ts';
import { requestJson } from './fixture.ts';

/** Milliseconds where production waits minutes. */
export const fastTimings: Partial<NodeTimings> = { pollMs: 50, sshReadyMs: 5000, instanceRunningMs: 10_000, instanceStatusOkMs: 10_000, targetHealthyMs: 10_000, targetDrainedMs: 10_000, instanceTerminatedMs: 10_000, scriptMs: 20_000, puppetMs: 60_000 };

export const uniqueClusterName = () => `t${randomUUID().replace(/-/g, '').slice(0, 10)}`;

export async function createCluster(app: App, fields: Record<string, unknown> = {}): Promise<string> {
  const name = (fields.name as string | undefined) ?? uniqueClusterName();
  const created = await requestJson(app, 'POST', '/api/clusters', { name, minNodes: 0, maxNodes: 5, ec2Profile: 'local', sshProfile: 'local', notifyEmail: `${name}@fleet.test`, ...fields });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return name;
}

/** Deploys `count` nodes into `cluster` side by side (fast timings) and waits until every deployment has ended. */
export async function deployNodes(app: App, temporal: Client, cluster: string, count: number): Promise<void> {
  const deployments = await Promise.all(Array.from({ length: count }, () => requestJson<{ workflowId: string }>(app, 'POST', `/api/clusters/${cluster}/deployments`, { timings: fastTimings })));
  await Promise.all(deployments.map((d) => temporal.workflow.getHandle(d.body.workflowId).result()));
}

/** Instances of a deployment that are not terminated (what a leak would leave behind). */
export async function liveInstancesOf(aws: AwsClients, config: Config, deploymentId: string): Promise<string[]> {
  const response = await aws.ec2(config.aws.region).send(
    new DescribeInstancesCommand({ Filters: [{ Name: `tag:${NODE_TAGS.deployment}`, Values: [deploymentId] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }),
  );
  return (response.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!);
}

export async function registeredTargets(aws: AwsClients, config: Config, targetGroup = LOCAL_TARGET_GROUP): Promise<{ id: string; state: string }[]> {
  const groups = await aws.elb(config.aws.region).send(new DescribeTargetGroupsCommand({ Names: [targetGroup] }));
  const health = await aws.elb(config.aws.region).send(new DescribeTargetHealthCommand({ TargetGroupArn: groups.TargetGroups![0]!.TargetGroupArn }));
  return (health.TargetHealthDescriptions ?? []).map((d) => ({ id: d.Target!.Id!, state: d.TargetHealth!.State! }));
}

export async function mailTo(config: Config, address: string): Promise<{ subject: string; text: string }[]> {
  const response = await fetch(`${mailboxUrl(config)}/messages?to=${encodeURIComponent(address)}`);
  return ((await response.json()) as { messages: { subject: string; text: string }[] }).messages;
}

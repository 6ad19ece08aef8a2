// The stack's moto resources, made with plain requests (scripts/motoResources.ts), as the AWS SDK sees
// them against the test stack's moto: a target group in the default VPC, made once however often
// (and however concurrently) it is ensured, a bucket in any region, and the one image moto lists.
import { afterAll, describe, expect, it } from 'vitest';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeImagesCommand, DescribeVpcsCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createAwsClients } from '../activities/nodes/aws.ts';
import { ensureMotoBucket, ensureMotoTargetGroup, LOCAL_IMAGE_ID, MotoRequestError } from '../scripts/motoResources.ts';
import { useStack } from './support/fixture.ts';

const { env, suffix } = useStack({ workers: false });

describe('moto resources without the AWS SDK', () => {
  const aws = () => createAwsClients(env.config.aws);
  const endpoint = () => `http://${env.config.aws.moto.host}:${env.config.aws.moto.port}`;
  const clients: { destroy(): void }[] = [];
  afterAll(() => clients.forEach((client) => client.destroy()));

  it('makes the target group once, in the default VPC, and returns its ARN every time', async () => {
    const name = `tg${suffix}`.slice(0, 32);
    const region = env.config.aws.region;
    const [first, concurrent] = await Promise.all([ensureMotoTargetGroup(endpoint(), region, name), ensureMotoTargetGroup(endpoint(), region, name)]);
    expect(concurrent).toBe(first);
    expect(await ensureMotoTargetGroup(endpoint(), region, name)).toBe(first);

    const sdk = aws();
    clients.push(sdk);
    const groups = await sdk.elb(region).send(new DescribeTargetGroupsCommand({ Names: [name] }));
    const vpcs = await sdk.ec2(region).send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    expect(groups.TargetGroups?.map((group) => [group.TargetGroupArn, group.VpcId, group.Protocol, group.Port])).toEqual([[first, vpcs.Vpcs?.[0]?.VpcId, 'HTTP', 8080]]);
  });

  it('makes a bucket in us-east-1 and in another region, and leaves one that exists', async () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const bucket = `moto-${region}${suffix}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
      await ensureMotoBucket(endpoint(), region, bucket);
      await ensureMotoBucket(endpoint(), region, bucket);
      const s3 = new S3Client({ region, endpoint: endpoint(), forcePathStyle: true, credentials: { accessKeyId: 'fleet', secretAccessKey: 'fleet' } });
      clients.push(s3);
      const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      expect(head.$metadata.httpStatusCode).toBe(200);
    }
  });

  it('lists only the local node image, in any region, and launches it', async () => {
    const sdk = aws();
    clients.push(sdk);
    for (const region of ['us-east-1', 'eu-west-1']) {
      const images = await sdk.ec2(region).send(new DescribeImagesCommand({}));
      expect(images.Images?.map((image) => [image.ImageId, image.Name, image.State])).toEqual([[LOCAL_IMAGE_ID, 'fleet-local-node', 'available']]);
    }
    const ec2 = sdk.ec2(env.config.aws.region);
    const launched = await ec2.send(new RunInstancesCommand({ ImageId: LOCAL_IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    const instance = launched.Instances?.[0];
    expect(instance?.ImageId).toBe(LOCAL_IMAGE_ID);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance!.InstanceId!] }));
  });

  it('names what moto refused', async () => {
    const error = await ensureMotoTargetGroup(endpoint(), env.config.aws.region, 'not a valid name!').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MotoRequestError);
    expect((error as Error).message).toMatch(/^moto (DescribeTargetGroups|CreateTargetGroup)/);
  });
});

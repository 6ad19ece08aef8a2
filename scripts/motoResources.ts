// What the stack's moto needs before a deployment: the target group nodes join and the fractals'
// bucket. moto keeps its state in memory, so they are made at every start of moto. Plain requests to
// its query and REST APIs: the supervisor makes them without loading the AWS SDK (about 2 CPU-seconds
// and 100 MB for a process of its own). moto does not check signatures; it reads the service and the
// region from the credential scope.

/** The target group that the local example cluster's nodes join. */
export const LOCAL_TARGET_GROUP = 'fleet-web';

/** The image the local clusters' EC2 profiles launch (an ID moto used to list by default, kept for profiles saved with it). */
export const LOCAL_IMAGE_ID = 'ami-12c6146b';

/**
 * The only image the stack's moto lists (its MOTO_AMIS_PATH file). moto's default list has about
 * 1,200 images per region, each with a volume and a snapshot: building them took 0.4 CPU-s of the
 * first EC2 call, at every start. A launch needs only the image it names.
 */
export const motoImages = [
  {
    ami_id: LOCAL_IMAGE_ID,
    name: 'fleet-local-node',
    description: "The local clusters' node image: moto's instances are reached through this machine's sshd",
    owner_id: '801119661308',
    public: true,
    state: 'available',
    image_type: 'machine',
    image_location: 'fleet/local-node',
    architecture: 'x86_64',
    virtualization_type: 'hvm',
    hypervisor: 'xen',
    root_device_type: 'ebs',
    root_device_name: '/dev/sda1',
  },
];

export class MotoRequestError extends Error {}

function authorization(region: string, service: string): string {
  return `AWS4-HMAC-SHA256 Credential=fleet/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/** A query-API action (form-encoded POST); returns the XML body, or the error's code. */
async function queryAction(endpoint: string, region: string, service: string, params: Record<string, string>): Promise<{ ok: boolean; body: string; code?: string }> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { authorization: authorization(region, service), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.text();
  return { ok: response.ok, body, code: response.ok ? undefined : /<Code>([^<]+)<\/Code>/.exec(body)?.[1] };
}

const xmlValue = (body: string, tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(body)?.[1];

/** The target group `name` in the default VPC (made when missing); returns its ARN. */
export async function ensureMotoTargetGroup(endpoint: string, region: string, name = LOCAL_TARGET_GROUP): Promise<string> {
  const elb = (params: Record<string, string>) => queryAction(endpoint, region, 'elasticloadbalancing', { Version: '2015-12-01', ...params });
  const existing = await elb({ Action: 'DescribeTargetGroups', 'Names.member.1': name });
  const existingArn = existing.ok ? xmlValue(existing.body, 'TargetGroupArn') : undefined;
  if (existingArn) return existingArn;
  if (!existing.ok && existing.code !== 'TargetGroupNotFound') throw new MotoRequestError(`moto DescribeTargetGroups: ${existing.code ?? existing.body.slice(0, 200)}`);
  const vpcs = await queryAction(endpoint, region, 'ec2', { Action: 'DescribeVpcs', Version: '2016-11-15', 'Filter.1.Name': 'is-default', 'Filter.1.Value.1': 'true' });
  const vpcId = vpcs.ok ? xmlValue(vpcs.body, 'vpcId') : undefined;
  if (!vpcId) throw new MotoRequestError(`moto has no default VPC in ${region}: ${vpcs.code ?? vpcs.body.slice(0, 200)}`);
  const created = await elb({ Action: 'CreateTargetGroup', Name: name, Protocol: 'HTTP', Port: '8080', VpcId: vpcId, TargetType: 'instance', HealthCheckPath: '/' });
  const arn = created.ok ? xmlValue(created.body, 'TargetGroupArn') : undefined;
  if (arn) return arn;
  // Another start made it meanwhile.
  if (created.code === 'DuplicateTargetGroupName') return ensureMotoTargetGroup(endpoint, region, name);
  throw new MotoRequestError(`moto CreateTargetGroup ${name}: ${created.code ?? created.body.slice(0, 200)}`);
}

/** The bucket `bucket` (path-style), made when missing. */
export async function ensureMotoBucket(endpoint: string, region: string, bucket: string): Promise<void> {
  const url = `${endpoint}/${encodeURIComponent(bucket)}`;
  const headers = { authorization: authorization(region, 's3') };
  const head = await fetch(url, { method: 'HEAD', headers, signal: AbortSignal.timeout(30_000) });
  if (head.ok) return;
  if (head.status !== 404) throw new MotoRequestError(`moto HEAD bucket ${bucket}: HTTP ${head.status}`);
  const body =
    region === 'us-east-1' ? undefined : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`;
  const created = await fetch(url, { method: 'PUT', headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await created.text();
  if (!created.ok && !/BucketAlreadyOwnedByYou/.test(text)) throw new MotoRequestError(`moto CreateBucket ${bucket}: HTTP ${created.status} ${text.slice(0, 200)}`);
}

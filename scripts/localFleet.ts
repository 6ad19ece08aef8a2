// What a fresh local stack needs to deploy nodes at once: a target group in moto (its state is
// in memory, so it is made at every start) and, once, an example cluster with local profiles.
import { userInfo } from 'node:os';
import { CreateTargetGroupCommand, DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import type mysql from 'mysql2/promise';
import type { Config } from '../config.ts';
import { LOCAL_SSH_KEY } from '../activities/nodes/ssh.ts';
import { isAwsError, type AwsClients } from '../activities/nodes/aws.ts';

export const LOCAL_TARGET_GROUP = 'fleet-web';
/** One of the images moto lists by default: a launch of it needs no set-up. */
export const LOCAL_IMAGE_ID = 'ami-12c6146b';

export async function ensureTargetGroup(aws: AwsClients, region: string, name = LOCAL_TARGET_GROUP): Promise<string> {
  try {
    const existing = await aws.elb(region).send(new DescribeTargetGroupsCommand({ Names: [name] }));
    const arn = existing.TargetGroups?.[0]?.TargetGroupArn;
    if (arn) return arn;
  } catch (error) {
    if (!isAwsError(error, 'TargetGroupNotFound')) throw error;
  }
  const vpcs = await aws.ec2(region).send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  const created = await aws.elb(region).send(
    new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: vpcs.Vpcs?.[0]?.VpcId, TargetType: 'instance', HealthCheckPath: '/' }),
  );
  return created.TargetGroups![0]!.TargetGroupArn!;
}

const exampleManifest = `# OSConfiguration: the node's base directories and a marker file (facts: fleet_cluster, fleet_node).
file { ["/tmp/fleet-nodes", "/tmp/fleet-nodes/\${facts['fleet_node']}"]: ensure => directory }
file { "/tmp/fleet-nodes/\${facts['fleet_node']}/os-configured":
  content => "configured by puppet for \${facts['fleet_cluster']}\\n",
}
`;

export async function seedExampleCluster(pool: mysql.Pool, config: Config): Promise<void> {
  await pool.query('INSERT IGNORE INTO ssh_profiles SET ?', [{ name: 'local', user: userInfo().username, key_ref: LOCAL_SSH_KEY, port: null }]);
  await pool.query('INSERT IGNORE INTO ec2_profiles SET ?', [
    {
      name: 'local',
      region: config.aws.region,
      image_id: LOCAL_IMAGE_ID,
      instance_type: 't3.micro',
      security_groups: '[]',
      target_group: LOCAL_TARGET_GROUP,
    },
  ]);
  await pool.query('INSERT IGNORE INTO clusters SET ?', [
    {
      name: 'web',
      min_nodes: 0,
      max_nodes: 10,
      ec2_profile: 'local',
      ssh_profile: 'local',
      notify_email: 'ops@fleet.local',
      puppet_manifest: exampleManifest,
      tomcat_script: 'mkdir -p /tmp/fleet-nodes/$FLEET_NODE/tomcat\nprintf \'<Server port="8005"/>\\n\' > /tmp/fleet-nodes/$FLEET_NODE/tomcat/server.xml\necho "tomcat configured on $FLEET_NODE"\n',
      deploy_script: 'mkdir -p /tmp/fleet-nodes/$FLEET_NODE/webapps\necho "app v1" > /tmp/fleet-nodes/$FLEET_NODE/webapps/ROOT.war\necho "deployed to $FLEET_NODE"\n',
      cluster_update_script: 'echo "$FLEET_NODE sees the cluster change"\n',
    },
  ]);
}

// Every activity of the nodes task queue, built from injected clients (real or test ones).
import type { Config } from '../../config.ts';
import { awsClientsOnDemand, createAwsActivitiesOnDemand, type AwsClientsProvider } from './awsOnDemand.ts';
import { createEmailActivities, createSmtpMailer, type Mailer } from './email.ts';
import { createSshEndpointResolver, type SshEndpointResolver } from './sshEndpoint.ts';
import type { FleetModel } from '../../db/nodes.ts';
import type { ScriptOutputStore } from '../../db/scriptOutputs.ts';
import { createFleetRecordActivities } from './records.ts';
import { createNodeScriptActivities } from './scripts.ts';
import { createSshRunner, type SshRunner } from './ssh.ts';

export interface NodeActivityDependencies {
  model: FleetModel;
  /** Where script runs' output goes (MySQL's script_outputs). */
  outputs: ScriptOutputStore;
  /** The EC2/ELBv2 clients; the AWS SDK is loaded at the first AWS activity, not at the worker's start. */
  aws: AwsClientsProvider;
  resolveSshEndpoint: SshEndpointResolver;
  ssh: SshRunner;
  mailer: Mailer;
  /** Domains notify addresses may be in (config.smtp.allowedDomains). */
  notifyAllowedDomains: readonly string[];
}

export function createNodeActivities(deps: NodeActivityDependencies) {
  return {
    ...createFleetRecordActivities(deps.model),
    ...createAwsActivitiesOnDemand({ aws: deps.aws, resolveSshEndpoint: deps.resolveSshEndpoint, userDataOf: async (name) => (await deps.model.getProfileForLaunch(name))?.userData }),
    ...createNodeScriptActivities({ ssh: deps.ssh, outputs: deps.outputs }),
    ...createEmailActivities({ mailer: deps.mailer, allowedDomains: deps.notifyAllowedDomains }),
  };
}

export type NodeActivities = ReturnType<typeof createNodeActivities>;

/** The production wiring from Config; `close` releases the SDK clients and the SMTP pool (those that were created). */
export function nodeClientsFromConfig(config: Config) {
  const aws = awsClientsOnDemand(config.aws);
  const mailer = createSmtpMailer(config.smtp);
  return {
    aws,
    resolveSshEndpoint: createSshEndpointResolver(config.ssh.endpoints, config.ssh.sshd),
    ssh: createSshRunner({ keysDir: config.ssh.keysDir }),
    mailer,
    notifyAllowedDomains: config.smtp.allowedDomains,
    close() {
      aws.destroy();
      mailer.close();
    },
  };
}

// The EC2/ELBv2 activities and clients with the AWS SDK loaded at their first use, not when the worker
// starts: its two clients cost a process about 85 MB, and at rest no node is being deployed. aws.ts
// holds the SDK-using code; this module only imports its types, so a bundle puts it in a chunk of
// its own that the first call loads.
import type { Config } from '../../config.ts';
import type { AwsClients, createAwsActivities } from './aws.ts';
import type { SshEndpointResolver } from './sshEndpoint.ts';
import { forwardOnDemand, loadOnce } from '../onDemand.ts';

export type AwsActivities = ReturnType<typeof createAwsActivities>;

/** The EC2/ELBv2 clients, created with the SDK at the first call (tests hand in their own). */
export type AwsClientsProvider = () => Promise<AwsClients>;

/** The names the nodes worker registers for aws.ts's activities, known without loading the SDK. */
export const AWS_ACTIVITY_NAMES = [
  'launchInstance',
  'waitInstanceRunning',
  'waitInstanceStatusOk',
  'terminateDeploymentInstances',
  'waitInstanceTerminated',
  'registerTarget',
  'deregisterTarget',
  'waitTargetHealthy',
  'waitTargetDrained',
] as const satisfies readonly (keyof AwsActivities)[];

// A name added to aws.ts's activities but not above fails the typecheck here.
type Unlisted = Exclude<keyof AwsActivities, (typeof AWS_ACTIVITY_NAMES)[number]>;
const everyNameListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyNameListed;

/** Clients from Config, created (and cached by region, as aws.ts does) on the first call; `destroy` releases them if they were. */
export function awsClientsOnDemand(aws: Config['aws']): AwsClientsProvider & { destroy(): void } {
  let clients: Promise<AwsClients> | undefined;
  const provide = () => (clients ??= import('./aws.ts').then((module) => module.createAwsClients(aws)));
  return Object.assign(provide, {
    destroy() {
      void clients?.then(
        (loaded) => loaded.destroy(),
        () => {},
      );
    },
  });
}

/**
 * aws.ts's activities under the same names, each loading aws.ts (and its clients) at the first call
 * of any of them. Their errors are aws.ts's own, non-retryable marks and all.
 */
export function createAwsActivitiesOnDemand(deps: {
  aws: AwsClientsProvider;
  resolveSshEndpoint: SshEndpointResolver;
  userDataOf?: (profile: string) => Promise<string | null | undefined>;
}): AwsActivities {
  const load = loadOnce(() =>
    Promise.all([import('./aws.ts'), deps.aws()]).then(([module, aws]) =>
      module.createAwsActivities({ aws, resolveSshEndpoint: deps.resolveSshEndpoint, userDataOf: deps.userDataOf }),
    ),
  );
  return forwardOnDemand(load, AWS_ACTIVITY_NAMES);
}

// The names of what a local stack seeds, apart from the seeding (scripts/localFleet.ts, which loads
// the services and Temporal's client): the UI names the clusters too, and the supervisor checks by
// these names whether a start has anything to seed (scripts/fleetPrepared.ts).

/** The autoscaling example's cluster (moto instances reached over the local sshd). */
export const EXAMPLE_CLUSTER = 'web';
/** The fractal workers' cluster (the seed's AutoScalingGroup of workers: min 1, max 3, ±1 per firing). */
export const FRACTAL_CLUSTER = 'fractal-workers';

/** The SSH and EC2 profiles of both clusters (the local sshd, moto). */
export const LOCAL_PROFILE = 'local';

/** A cluster's seeded pair of triggers, the example's and the fractal workers' alike. */
export const scaleOutTrigger = (cluster: string) => `${cluster}-scale-out`;
export const scaleInTrigger = (cluster: string) => `${cluster}-scale-in`;

/** The autoscaling example's counter and triggers. */
export const EXAMPLE_COUNTER = 'cpu-busy';
export const EXAMPLE_SCALE_OUT = scaleOutTrigger(EXAMPLE_CLUSTER);
export const EXAMPLE_SCALE_IN = scaleInTrigger(EXAMPLE_CLUSTER);
/** The fractal workers' counter (the render queue's backlog). */
export const FRACTAL_BACKLOG_COUNTER = 'fractals-backlog';

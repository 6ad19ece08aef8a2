// The local fleet's cluster names, apart from its seeding (scripts/localFleet.ts, which loads the AWS
// SDK and SSH): the UI names them too, and the API process needs neither.

/** The autoscaling example's cluster (moto instances reached over the local sshd). */
export const EXAMPLE_CLUSTER = 'web';
/** The fractal workers' cluster (the seed's AutoScalingGroup of workers: min 1, max 3, ±1 per firing). */
export const FRACTAL_CLUSTER = 'fractal-workers';

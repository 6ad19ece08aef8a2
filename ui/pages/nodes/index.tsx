// Clusters and nodes in the UI, one module per resource: clusters (the /nodes list and a cluster's
// page), EC2 and SSH profiles, runbooks (deployments and removals), script runs, and the mailbox.
import { Hono } from 'hono';
import { clustersRoutes } from './clusters.tsx';
import { mailboxRoutes } from './mailbox.tsx';
import { profilesRoutes } from './profiles.tsx';
import { runbooksRoutes } from './runbooks.tsx';
import { scriptRunsRoutes } from './scriptRuns.tsx';
import { nodesFrame, type NodesPagesDependencies } from './shared.tsx';

export type { NodesPagesDependencies };

export function nodesPages(deps: NodesPagesDependencies) {
  const frame = nodesFrame(deps);
  return new Hono()
    .route('/', clustersRoutes(deps, frame))
    .route('/', profilesRoutes(deps.service.model))
    .route('/', runbooksRoutes(deps, frame))
    .route('/', scriptRunsRoutes(deps, frame))
    .route('/', mailboxRoutes(deps.service, frame));
}

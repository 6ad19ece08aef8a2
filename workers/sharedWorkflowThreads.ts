// One workflow thread for several Workers of one process. The SDK gives every Worker that hosts
// workflows a thread of its own, and each thread loads the SDK's thread modules, Temporal's protobuf
// definitions and the workflow bundle again: about 0.6 CPU-seconds and 20–30 MB apiece, seven times
// over in the main worker before they shared. Workers made by one class from this factory, with the
// same bundle, share the thread (and its V8 context: reuseV8Context keeps each run's globals apart).
import { Worker } from '@temporalio/worker';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';

type CreatorArguments = Parameters<(typeof Worker)['createWorkflowCreator']>;

/**
 * A Worker class whose instances share one workflow thread per bundle; the thread ends with the last
 * of them. The thread knows the registered activity names of the first Worker only, which matters for
 * local activities alone: give workflows that use local activities a Worker of the plain class.
 */
export function workerClassSharingWorkflowThreads(): typeof Worker {
  const threads = new Map<string, { creator: Promise<WorkflowCreator>; users: number }>();
  return class WorkerSharingWorkflowThreads extends Worker {
    protected static override async createWorkflowCreator(...[bundle, options, logger]: CreatorArguments): Promise<WorkflowCreator> {
      const key = bundle.code;
      let shared = threads.get(key);
      if (!shared) {
        shared = { creator: super.createWorkflowCreator(bundle, options, logger), users: 0 };
        threads.set(key, shared);
        shared.creator.catch(() => threads.delete(key));
      }
      shared.users += 1;
      const entry = shared;
      const creator = await entry.creator;
      let released = false;
      return {
        createWorkflow: (workflowOptions) => creator.createWorkflow(workflowOptions),
        async destroy() {
          if (released) return;
          released = true;
          entry.users -= 1;
          if (entry.users > 0) return;
          threads.delete(key);
          await creator.destroy();
        },
      };
    }
  };
}

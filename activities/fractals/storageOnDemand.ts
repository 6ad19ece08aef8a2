// The fractal image store with the AWS SDK loaded at its first use: the API serves PNGs, but most of
// its starts never do, and the S3 client cost its start about 0.2 CPU-s. storage.ts holds the
// SDK-using code; this module only imports its types, so a bundle puts it in a chunk of its own.
import type { Config } from '../../config.ts';
import type { FractalImageStore } from './storage.ts';
import { forwardOnDemand, loadOnce } from '../onDemand.ts';

/** The store the configuration names (as storage.ts's fractalImageStoreFor), made at the first call of any method. */
export function fractalImageStoreOnDemand(storage: Config['fractals']['storage']): FractalImageStore {
  const load = loadOnce(() => import('./storage.ts').then((module) => module.fractalImageStoreFor(storage)));
  return { bucket: storage.bucket, ...forwardOnDemand(load, ['ensureBucket', 'put', 'head', 'get', 'delete', 'count']) };
}

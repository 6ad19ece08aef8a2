// The fractal image store with the AWS SDK loaded at its first use: the API serves PNGs, but most of
// its starts never do, and the S3 client cost its start about 0.2 CPU-s. storage.ts holds the
// SDK-using code; this module only imports its types, so a bundle puts it in a chunk of its own.
import type { Config } from '../../config.ts';
import type { FractalImageStore } from './storage.ts';

type StoreMethod = Exclude<keyof FractalImageStore, 'bucket'>;

/** The store the configuration names (as storage.ts's fractalImageStoreFor), made at the first call of any method. */
export function fractalImageStoreOnDemand(storage: Config['fractals']['storage']): FractalImageStore {
  let store: Promise<FractalImageStore> | undefined;
  const load = () =>
    (store ??= import('./storage.ts').then((module) => module.fractalImageStoreFor(storage)).catch((error: unknown) => {
      store = undefined; // the next call tries again
      throw error;
    }));
  const forward = <Name extends StoreMethod>(name: Name) =>
    (async (...args: Parameters<FractalImageStore[Name]>) => {
      const loaded = await load();
      return (loaded[name] as (...a: Parameters<FractalImageStore[Name]>) => ReturnType<FractalImageStore[Name]>)(...args);
    }) as FractalImageStore[Name];
  return {
    bucket: storage.bucket,
    ensureBucket: forward('ensureBucket'),
    put: forward('put'),
    head: forward('head'),
    get: forward('get'),
    delete: forward('delete'),
    count: forward('count'),
  };
}

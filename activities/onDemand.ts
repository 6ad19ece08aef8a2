// Code loaded at its first use instead of when a process starts (the AWS SDK behind the nodes
// worker's EC2 activities and the API's fractal images): the first call loads, later calls share it.

/** `load` run at the first call, its promise shared by every call after; a failed load is tried again at the next call. */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () =>
    (loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    }));
}

type AsyncMethods<T, Name extends keyof T> = { [K in Name]: T[K] extends (...args: never[]) => Promise<unknown> ? T[K] : never };

/** The methods `names` of what `load` gives, each awaiting it (as loadOnce's) before the call; errors are the loaded method's own. */
export function forwardOnDemand<T, Name extends keyof T>(load: () => Promise<T>, names: readonly Name[]): AsyncMethods<T, Name> {
  const forward = (name: Name) =>
    async (...args: unknown[]) => {
      const target = await load();
      return (target[name] as (...a: unknown[]) => Promise<unknown>).apply(target, args);
    };
  return Object.fromEntries(names.map((name) => [name, forward(name)])) as AsyncMethods<T, Name>;
}

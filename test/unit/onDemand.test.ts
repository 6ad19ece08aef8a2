// activities/onDemand.ts: what the nodes worker's AWS activities and the API's fractal images load at
// their first use is loaded once, tried again after a failed load, and called as itself.
import { describe, expect, it } from 'vitest';
import { forwardOnDemand, loadOnce } from '../../activities/onDemand.ts';

describe('loaded on demand', () => {
  it('loads at the first call, once, however many calls wait for it', async () => {
    let loads = 0;
    const load = loadOnce(async () => ({ n: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([load(), load()]);
    expect(await load()).toBe(a);
    expect(b).toBe(a);
    expect(loads).toBe(1);
  });

  it('tries a failed load again at the next call', async () => {
    let loads = 0;
    const load = loadOnce(async () => {
      if (++loads === 1) throw new Error('module not found');
      return 'loaded';
    });
    await expect(load()).rejects.toThrow('module not found');
    expect(await load()).toBe('loaded');
    expect(loads).toBe(2);
  });

  it('forwards each named method with its arguments, as a method of what was loaded, errors unchanged', async () => {
    class Store {
      prefix = 'png:';
      async get(key: string) {
        return this.prefix + key;
      }
      async fail() {
        throw new TypeError('refused');
      }
    }
    let loads = 0;
    const load = loadOnce(async () => {
      loads++;
      return new Store();
    });
    const store = forwardOnDemand(load, ['get', 'fail']);
    expect(Object.keys(store).sort()).toEqual(['fail', 'get']);
    expect(loads).toBe(0);
    expect(await store.get('a')).toBe('png:a');
    await expect(store.fail()).rejects.toBeInstanceOf(TypeError);
    expect(loads).toBe(1);
  });
});

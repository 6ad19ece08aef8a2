// The fractal worker's render pool (activities/fractals/renderPool.ts): real worker threads, on the
// real render and on a probe thread module that reports which thread ran a job and when.
import { afterEach, describe, expect, it } from 'vitest';
import { renderFractalPng, type JuliaView } from '../../activities/fractals/julia.ts';
import { createRenderPool, type RenderPool } from '../../activities/fractals/renderPool.ts';

const probe = new URL('./fixtures/probeRenderThread.ts', import.meta.url);
const view: JuliaView = { width: 96, height: 64, iterations: 128, xa: -1.5, xb: 1.5, ya: -1, yb: 1, cx: -0.8, cy: 0.156 };
/** A probe job that holds its thread for `ms`. */
const hold = (ms: number): JuliaView => ({ ...view, iterations: ms });

interface Probe {
  threadId: number;
  start: number;
  end: number;
}
const probed = async (result: Promise<{ png: Buffer }>): Promise<Probe> => JSON.parse((await result).png.toString()) as Probe;

let pools: RenderPool[] = [];
const pool = (threads: number, entry?: URL, idleMs?: number) => {
  const made = createRenderPool({ threads, entry, idleMs });
  pools.push(made);
  return made;
};
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

describe('the render pool', () => {
  it('renders the same PNG as renderFractalPng in the main thread', async () => {
    const direct = renderFractalPng(view);
    const [first, second] = await Promise.all([pool(2).render(view), pools[0]!.render({ ...view, width: 1, height: 1 })]);
    expect(first.checksum).toBe(direct.checksum);
    expect(first.png.equals(direct.png)).toBe(true);
    expect(first.duration).toBeGreaterThan(0);
    // A one-pixel PNG is small enough to share Node's buffer pool in its thread: it is copied, not transferred.
    expect(second.png.equals(renderFractalPng({ ...view, width: 1, height: 1 }).png)).toBe(true);
  });

  it('runs one job per thread at once and queues the rest in order', async () => {
    const three = pool(2, probe);
    const jobs = [three.render(hold(400)), three.render(hold(400)), three.render(hold(50))];
    expect(three.stats()).toEqual({ busy: 2, queued: 1, running: 2 });
    const [a, b, c] = await Promise.all(jobs.map(probed));
    expect(a!.threadId).not.toBe(b!.threadId);
    // The first two overlapped; the third started only when one of them had ended.
    expect(Math.max(a!.start, b!.start)).toBeLessThan(Math.min(a!.end, b!.end));
    expect(c!.start).toBeGreaterThanOrEqual(Math.min(a!.end, b!.end));
    expect(three.stats()).toEqual({ busy: 0, queued: 0, running: 2 });
  });

  it('starts no thread before a job, then only the threads the jobs need', async () => {
    const two = pool(2, probe);
    expect(two.stats()).toEqual({ busy: 0, queued: 0, running: 0 });
    const first = await probed(two.render(hold(1)));
    expect(two.stats()).toEqual({ busy: 0, queued: 0, running: 1 });
    // One job at a time goes to the idle thread: no second thread is started for it.
    expect((await probed(two.render(hold(1)))).threadId).toBe(first.threadId);
    expect(two.stats().running).toBe(1);
    const [a, b] = await Promise.all([probed(two.render(hold(100))), probed(two.render(hold(100)))]);
    expect(new Set([a!.threadId, b!.threadId, first.threadId]).size).toBe(2);
    expect(two.stats().running).toBe(2);
  });

  it('stops a thread idle for idleMs, keeps a busy or recently used one, and starts a new one for the next job', async () => {
    const one = pool(1, probe, 500);
    const first = await probed(one.render(hold(1)));
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Used again within idleMs: the same thread, and its idle time starts over.
    expect((await probed(one.render(hold(1)))).threadId).toBe(first.threadId);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // A job longer than idleMs: the thread is not stopped under it.
    expect((await probed(one.render(hold(800)))).threadId).toBe(first.threadId);
    expect(one.stats().running).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(one.stats()).toEqual({ busy: 0, queued: 0, running: 0 });
    const later = await probed(one.render(hold(1)));
    expect(later.threadId).not.toBe(first.threadId);
    expect(one.stats().running).toBe(1);
  });

  it('fails the job of a thread that dies, and replaces the thread', async () => {
    const one = pool(1, probe);
    const before = await probed(one.render(hold(1)));
    const waiting = probed(one.render(hold(1)));
    await expect(one.render({ ...view, width: 13 })).rejects.toThrow(/exited \(code 3\)/);
    // The job queued behind it runs on a new thread.
    const after = await probed(one.render(hold(1)));
    expect((await waiting).threadId).toBe(before.threadId);
    expect(after.threadId).not.toBe(before.threadId);
  });

  it('drops a cancelled job from the queue, and stops the thread of a cancelled running job', async () => {
    const one = pool(1, probe);
    const running = new AbortController();
    const waiting = new AbortController();
    const first = one.render(hold(5_000), { signal: running.signal });
    const second = one.render(hold(1), { signal: waiting.signal });
    waiting.abort(new Error('cancelled while queued'));
    await expect(second).rejects.toThrow('cancelled while queued');
    const started = Date.now();
    running.abort(new Error('cancelled while running'));
    await expect(first).rejects.toThrow('cancelled while running');
    expect(Date.now() - started).toBeLessThan(2_000);
    await probed(one.render(hold(1)));
  });

  it('ends its threads at close: waiting and later jobs fail', async () => {
    const one = pool(1, probe);
    const running = one.render(hold(5_000));
    const waiting = one.render(hold(1));
    const outcomes = Promise.allSettled([running, waiting]);
    await one.close();
    const [ranOut, waitedOut] = await outcomes;
    // The running job's thread was ended under it (it held the thread for 5 s).
    expect(ranOut).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/exited/) } });
    expect(waitedOut).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/closed/) } });
    await expect(one.render(hold(1))).rejects.toThrow('closed');
  });
});

// The record that keeps a workflow bundle while its inputs are unchanged (workers/bundleCache.ts),
// without webpack: a bundle here is any code whose inline source map names its sources.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBundleCurrent, recordBundle } from '../../workers/bundleCache.ts';

const dir = mkdtempSync(join(tmpdir(), 'bundle-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bundleOf(sources: string[], body: string): string {
  const map = Buffer.from(JSON.stringify({ version: 3, sources, mappings: '' })).toString('base64');
  return `${body}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${map}\n`;
}

describe('the workflow bundle cache', () => {
  const entry = join(dir, 'index.ts');
  const helper = join(dir, 'helper.ts');
  const out = join(dir, 'build', 'bundle.js');
  mkdirSync(dir, { recursive: true });

  it('keeps a bundle until one of the sources its map names changes', () => {
    writeFileSync(entry, 'export * from "./helper";\n');
    writeFileSync(helper, 'export const one = 1;\n');
    expect(isBundleCurrent(out, entry)).toBe(false);
    recordBundle(out, entry, bundleOf([entry, helper], 'var one = 1;'));
    expect(isBundleCurrent(out, entry)).toBe(true);
    writeFileSync(helper, 'export const one = 2;\n');
    expect(isBundleCurrent(out, entry)).toBe(false);
  });

  it('is not current for another entry, nor when the bundle is not the one recorded', () => {
    writeFileSync(helper, 'export const one = 1;\n');
    recordBundle(out, entry, bundleOf([entry, helper], 'var one = 1;'));
    expect(isBundleCurrent(out, helper)).toBe(false);
    // Another builder's bundle landed after this record: it must be built again, not trusted.
    writeFileSync(out, bundleOf([entry, helper], 'var one = 3;'));
    expect(isBundleCurrent(out, entry)).toBe(false);
  });

  it('never keeps a bundle without a source map, which names nothing to check', () => {
    recordBundle(out, entry, 'var one = 1;');
    expect(isBundleCurrent(out, entry)).toBe(false);
  });
});

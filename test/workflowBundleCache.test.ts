// A workflow bundle is built (by webpack, in a child process) once and kept while its sources are
// unchanged (workers/bundleCache.ts): a start with nothing changed reuses it, a changed source is
// built again, and two builds at once leave one whole, current bundle. Here, not in the unit tier:
// each build takes both cores for seconds.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../config.ts';
import { ensureWorkflowBundle, isBundleCurrent } from '../workers/bundleCache.ts';

// Inside the project, so the bundler resolves @temporalio/workflow from its node_modules.
const dir = join(projectRoot, '.data', 'test-bundle-cache', String(process.pid));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureWorkflowBundle', () => {
  it('reuses the bundle while its sources are unchanged, and builds again when one changes', { timeout: 120_000 }, async () => {
    mkdirSync(dir, { recursive: true });
    const workflows = join(dir, 'workflows.ts');
    const out = join(dir, 'build', 'workflow-bundle.js');
    writeFileSync(workflows, 'export async function firstVersion(): Promise<number> { return 1; }\n');
    expect(await ensureWorkflowBundle(out, workflows)).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('firstVersion');
    const built = statSync(out).mtimeMs;

    expect(await ensureWorkflowBundle(out, workflows)).toBe(out);
    expect(statSync(out).mtimeMs).toBe(built);

    writeFileSync(workflows, 'export async function secondVersion(): Promise<number> { return 2; }\n');
    // Two stacks starting at once after the change: both build, and what is left is one whole bundle.
    await Promise.all([ensureWorkflowBundle(out, workflows), ensureWorkflowBundle(out, workflows)]);
    const rebuilt = readFileSync(out, 'utf8');
    expect(rebuilt).toContain('secondVersion');
    expect(rebuilt).not.toContain('firstVersion');
    expect(isBundleCurrent(out, workflows)).toBe(true);
  });
});

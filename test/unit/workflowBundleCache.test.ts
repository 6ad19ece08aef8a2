// The workflow bundle is built once and kept while its sources are unchanged (workers/bundle.ts): a
// start with nothing changed reuses it, a changed source is built again.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../config.ts';
import { writeWorkflowBundle } from '../../workers/bundle.ts';

// Inside the project, so the bundler resolves @temporalio/workflow from its node_modules.
const dir = join(projectRoot, '.data', 'unit-tests', `bundle-cache-${process.pid}`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeWorkflowBundle', () => {
  it('reuses the bundle while its sources are unchanged, and builds again when one changes', { timeout: 60_000 }, async () => {
    mkdirSync(dir, { recursive: true });
    const workflows = join(dir, 'workflows.ts');
    const out = join(dir, 'build', 'workflow-bundle.js');
    writeFileSync(workflows, 'export async function firstVersion(): Promise<number> { return 1; }\n');
    expect(await writeWorkflowBundle(out, workflows)).toBe(out);
    expect(readFileSync(out, 'utf8')).toContain('firstVersion');
    const built = statSync(out).mtimeMs;

    expect(await writeWorkflowBundle(out, workflows)).toBe(out);
    expect(statSync(out).mtimeMs).toBe(built);

    writeFileSync(workflows, 'export async function secondVersion(): Promise<number> { return 2; }\n');
    await writeWorkflowBundle(out, workflows);
    const rebuilt = readFileSync(out, 'utf8');
    expect(rebuilt).toContain('secondVersion');
    expect(rebuilt).not.toContain('firstVersion');
  });
});

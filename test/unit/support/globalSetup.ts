// The unit tier's only set-up, no shared stack: the workflow bundle (built once for every test file,
// and reused by the next run while none of its sources changed) and Temporal's time-skipping test
// server (installed when missing; each file starts its own).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig, projectRoot } from '../../../config.ts';
import { ensureTemporalTestServer } from '../../../scripts/temporalTestServer.ts';
import { buildWorkflowBundle } from '../../../workers/bundle.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The prebuilt workflow bundle and the test server's wrapper script. */
    unitEnv: { workflowBundlePath: string; testServerPath: string };
  }
}

export default async function setup(project: TestProject) {
  const config = loadConfig();
  const testServerPath = await ensureTemporalTestServer(config, (line) => console.log(line));
  const workflowBundlePath = await cachedWorkflowBundle(join(config.dataDir, 'unit-tests'));
  project.provide('unitEnv', { workflowBundlePath, testServerPath });
}

/** Every file's content hash, or null for a file that is not there. */
function fingerprint(files: string[]): Record<string, string | null> {
  return Object.fromEntries(files.map((file) => [file, existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null]));
}

/**
 * Bundling takes 1.5–3 s on two busy cores, before any test can start. The bundle's inline source
 * map names every file it was built from; with the bundler's own options and the lockfile, their
 * hashes decide whether the last bundle is still this code.
 */
async function cachedWorkflowBundle(dir: string): Promise<string> {
  const bundlePath = join(dir, 'workflow-bundle.js');
  const inputsPath = join(dir, 'workflow-bundle.inputs.json');
  const always = [join(projectRoot, 'workers/bundle.ts'), join(projectRoot, 'package-lock.json')];
  if (existsSync(bundlePath) && existsSync(inputsPath)) {
    const recorded = JSON.parse(readFileSync(inputsPath, 'utf8')) as Record<string, string | null>;
    const now = fingerprint(Object.keys(recorded));
    if (Object.keys(recorded).length > always.length && Object.entries(recorded).every(([file, hash]) => now[file] === hash)) return bundlePath;
  }
  const { code } = await buildWorkflowBundle();
  const map = /sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)/.exec(code);
  const sources = map ? (JSON.parse(Buffer.from(map[1]!, 'base64').toString()) as { sources: string[] }).sources.filter((s) => s.startsWith('/')) : [];
  mkdirSync(dir, { recursive: true });
  writeAtomically(bundlePath, code);
  // Without a source map there is nothing to check against: the next run builds again.
  writeAtomically(inputsPath, JSON.stringify(sources.length > 0 ? fingerprint([...always, ...sources]) : {}, null, 1));
  return bundlePath;
}

/** Another test run may be reading the file: it sees the old one or the new one, never half of one. */
function writeAtomically(path: string, content: string): void {
  writeFileSync(`${path}.${process.pid}`, content);
  renameSync(`${path}.${process.pid}`, path);
}

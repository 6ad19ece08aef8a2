// scripts/build.mjs on a small project of its own: a build is reused while its sources are unchanged,
// and a changed source (even one only imported) is picked up by the next ensureBuilt.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { projectRoot } from '../../configValues.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { build, compiledEntry, currentBuildDir, ensureBuilt, leanNodeFlags, type BuildProject } from '../../scripts/build.mjs';

describe('compiled build (scripts/build.mjs)', () => {
  let project: BuildProject;
  const write = (file: string, text: string) => writeFileSync(join(project.root, file), text);
  const run = (dir: string) => execFileSync(process.execPath, [compiledEntry(dir, 'main.ts', project.entryPoints)], { encoding: 'utf8' }).trim();

  beforeEach(() => {
    project = { root: mkdtempSync(join(tmpdir(), 'build-test-')), entryPoints: { app: 'main.ts' } };
    write('package.json', '{"type": "module"}');
    write('tsconfig.json', '{}');
    write('main.ts', "import { greeting } from './greeting.ts';\nconst name: string = 'build';\nconsole.log(`${greeting}, ${name}`);\n");
    write('greeting.ts', "export const greeting = 'hello';\n");
  });
  afterEach(() => rmSync(project.root, { recursive: true, force: true }));

  it('builds once, then reuses the build while no input changed', async () => {
    expect(currentBuildDir(project)).toBeUndefined();
    const dir = await ensureBuilt(project);
    expect(run(dir)).toBe('hello, build');
    expect(currentBuildDir(project)).toBe(dir);
    expect(await ensureBuilt(project)).toBe(dir);
  });

  it('picks up a changed imported source at the next ensureBuilt, keeping the previous build for processes still on it', async () => {
    const first = await ensureBuilt(project);
    write('greeting.ts', "export const greeting = 'bonjour';\n");
    expect(currentBuildDir(project)).toBeUndefined();
    const second = await ensureBuilt(project);
    expect(second).not.toBe(first);
    expect(run(second)).toBe('bonjour, build');
    expect(run(first)).toBe('hello, build');
  });

  it('rebuilds after a change of the compiler settings', async () => {
    await ensureBuilt(project);
    write('tsconfig.json', '{"compilerOptions": {}}');
    expect(currentBuildDir(project)).toBeUndefined();
  });

  it('two builders at once (two processes) leave one complete build and no temporary directory', async () => {
    const builder = `import('${pathToFileURL(join(projectRoot, 'scripts/build.mjs')).href}').then((b) => b.build({ root: ${JSON.stringify(project.root)}, entryPoints: { app: 'main.ts' } })).then(console.log)`;
    const builds = await Promise.all([1, 2].map(() => promisify(execFile)(process.execPath, ['-e', builder], { encoding: 'utf8' })));
    const [a, b] = builds.map((result) => result.stdout.trim());
    expect(a).toBe(b);
    expect(currentBuildDir(project)).toBe(a);
    expect(run(a!)).toBe('hello, build');
    expect(readdirSync(join(project.root, '.build')).filter((name) => name.startsWith('tmp-'))).toEqual([]);
  });

  it('names the source that failed to compile', async () => {
    write('greeting.ts', 'export const greeting = ;\n');
    await expect(build(project)).rejects.toThrow(/greeting\.ts:1/);
  });

  it('loads CommonJS packages with require() and ES module packages with import, with the same exports as Node gives', async () => {
    const pkg = (name: string, packageJson: object, code: string) => {
      mkdirSync(join(project.root, 'node_modules', name), { recursive: true });
      writeFileSync(join(project.root, 'node_modules', name, 'package.json'), JSON.stringify(packageJson));
      writeFileSync(join(project.root, 'node_modules', name, 'index.js'), code);
    };
    pkg('cjs-lib', { main: 'index.js' }, "exports.shout = (s) => s.toUpperCase() + '!';\nexports.__esModule = true;\n");
    pkg('esm-lib', { type: 'module', main: 'index.js' }, "export const whisper = (s) => s.toLowerCase();\nexport default 'esm default';\n");
    write(
      'main.ts',
      [
        "import cjsDefault, { shout } from 'cjs-lib';",
        "import esmDefault, { whisper } from 'esm-lib';",
        "const lazy = await import('cjs-lib');",
        'console.log(JSON.stringify([shout(\'hi\'), typeof cjsDefault.shout, whisper(\'HI\'), esmDefault, lazy.shout(\'lazy\')]));',
      ].join('\n'),
    );
    const dir = await ensureBuilt(project);
    // Node's own interop: a CommonJS default import is module.exports, even with __esModule set.
    expect(JSON.parse(run(dir))).toEqual(['HI!', 'function', 'hi', 'esm default', 'LAZY!']);
    const code = readdirSync(dir).filter((file) => file.endsWith('.js')).map((file) => readFileSync(join(dir, file), 'utf8')).join('\n');
    expect(code).toContain('__require("cjs-lib")');
    expect(code).not.toMatch(/^import .* from "cjs-lib";/m);
    expect(code).toMatch(/^import .* from "esm-lib";/m);
  });

  it('refuses an entry point it does not build', () => {
    expect(() => compiledEntry('/nowhere', 'other.ts', project.entryPoints)).toThrow(/not an entry point/);
  });
});

/** The packages a compiled entry loads as it starts: those its file and the chunks it imports statically import or require (not `import()`). */
function packagesLoadedAtStart(buildDir: string, file: string, seen = new Set<string>()): Set<string> {
  const packages = new Set<string>();
  if (seen.has(file)) return packages;
  seen.add(file);
  const code = readFileSync(join(buildDir, file), 'utf8');
  // esbuild writes a module's static imports at the start of a line: `import … from "x";` or `import "x";`.
  for (const [, specifier] of code.matchAll(/^(?:import|export)\b[^;()]*?["']([^"']+)["'];/gm)) {
    if (specifier!.startsWith('./')) for (const name of packagesLoadedAtStart(buildDir, specifier!.slice(2), seen)) packages.add(name);
    else packages.add(specifier!);
  }
  // CommonJS packages are required by one-line modules (build.mjs requireCommonJsPackages); counted
  // when such a module is in a file loaded at start, whether or not it is called there.
  for (const [, specifier] of code.matchAll(/module\.exports = __require\("([^"]+)"\)/g)) packages.add(specifier!);
  return packages;
}

describe('what the compiled processes load as they start', () => {
  it('only the fractal worker loads the AWS SDK at start; the API and the main worker load it at first use', async () => {
    const dir = await ensureBuilt();
    const sdkAtStart = (entry: string) => [...packagesLoadedAtStart(dir, basename(compiledEntry(dir, entry)))].filter((name) => name.startsWith('@aws-sdk/'));
    expect(sdkAtStart('workers/fractalWorker.ts')).toEqual(['@aws-sdk/client-s3']);
    expect(sdkAtStart('server/main.ts')).toEqual([]);
    expect(sdkAtStart('workers/main.ts')).toEqual([]);
    expect(sdkAtStart('scripts/start.ts')).toEqual([]);
  });
});

describe('the Node flags of the stack processes', () => {
  it('npm start runs the supervisor with the same flags as the processes it starts (leanNodeFlags)', () => {
    const { scripts } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${leanNodeFlags.join(' ')} scripts/launch.mjs scripts/start.ts`);
  });

  it('V8 accepts every one of them', () => {
    const out = execFileSync(process.execPath, [...leanNodeFlags, '-e', 'console.log("ok")'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out.trim()).toBe('ok');
  });
});

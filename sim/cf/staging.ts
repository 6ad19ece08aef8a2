// What staging makes of the uploaded bits, as far as the simulator can tell without running them.
// - Buildpacks: with none named, CC stages with auto-detection; the simulator's buildpacks detect
//   only the marker files below (binary_buildpack has no Linux detect, so it must be named:
//   binary-buildpack bin/detect). Nothing detected ends the build FAILED with NoAppDetectedError.
// - The web command is the Procfile's `web:` line. A command that runs a script from the bits
//   needs that script's exec bit (Unix mode in the zip); without it the instance exits 126.
// - An instance listens on $PORT when its command or script mentions PORT ($PORT or ${PORT}): a
//   `port` or `http` health check of an app that does not is never healthy, so it crashes.

import type { ZipEntry } from './zip.ts';

/** Buildpacks of a cf-deployment foundation (cf-deployment.yml `cc.install_buildpacks`). */
export const INSTALLED_BUILDPACKS = [
  'staticfile_buildpack', 'java_buildpack', 'ruby_buildpack', 'dotnet_core_buildpack', 'nodejs_buildpack', 'go_buildpack',
  'python_buildpack', 'php_buildpack', 'nginx_buildpack', 'r_buildpack', 'binary_buildpack',
];
export const STACKS = ['cflinuxfs4'];

/** Marker files by which a buildpack's bin/detect recognises an app (auto-detection order). */
const DETECTORS: [buildpack: string, marker: string][] = [
  ['staticfile_buildpack', 'Staticfile'],
  ['ruby_buildpack', 'Gemfile'],
  ['nodejs_buildpack', 'package.json'],
  ['go_buildpack', 'go.mod'],
  ['python_buildpack', 'requirements.txt'],
  ['php_buildpack', 'composer.json'],
];

export interface StagingResult {
  buildpacks: string[];
  processTypes: Record<string, string>;
  /** Whether the web command listens on $PORT. */
  listensOnPort: boolean;
  /** Why every instance exits at once (Diego's words), or null. */
  startFailure: string | null;
}

/** CC's build error: "<error id> - <description>" (build_presenter.rb, errors/v2.yml). */
export const stagingErrors = {
  noAppDetected: 'NoAppDetectedError - An app was not successfully detected by any available buildpack',
  staging: (reason: string) => `StagingError - Staging error: ${reason}`,
  insufficientResources: 'InsufficientResources - Insufficient resources',
};

const mentionsPort = (text: string) => /\$\{?PORT\b/.test(text);

export function stage(entries: ZipEntry[], requested: string[]): StagingResult | { error: string } {
  const files = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
  let buildpacks = requested;
  if (buildpacks.length === 0) {
    const detected = DETECTORS.find(([, marker]) => files.has(marker));
    if (!detected) return { error: stagingErrors.noAppDetected };
    buildpacks = [detected[0]];
  }
  const procfile = files.get('Procfile')?.data.toString('utf8') ?? '';
  const web = /^web:\s*(.+)$/m.exec(procfile)?.[1]?.trim();
  if (!web) {
    // binary_buildpack has no default start command (binary-buildpack: "no start command").
    if (buildpacks.at(-1) === 'binary_buildpack') return { error: stagingErrors.staging('no start command specified during staging or launch') };
    return { buildpacks, processTypes: { web: 'start' }, listensOnPort: true, startFailure: null };
  }
  const program = web.split(/\s+/)[0]!.replace(/^exec$/, '');
  const script = files.get(program.replace(/^\.\//, ''));
  const startFailure = script && script.mode !== null && (script.mode & 0o111) !== 0 ? null : script ? `Exited with status 126 (${program}: Permission denied)` : null;
  return { buildpacks, processTypes: { web }, listensOnPort: mentionsPort(web) || (script !== undefined && mentionsPort(script.data.toString('utf8'))), startFailure };
}

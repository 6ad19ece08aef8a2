// Types of scripts/build.mjs (plain JavaScript, so npm start can run it before anything is built).
export interface BuildProject {
  /** The directory holding package.json; the build goes to <root>/.build/<id>/. */
  root: string;
  /** Output name → entry point source, relative to root. */
  entryPoints: Record<string, string>;
}
export declare const projectRoot: string;
export declare const entryPoints: Record<string, string>;
export declare const project: BuildProject;
export declare function currentBuildDir(target?: Pick<BuildProject, 'root'>): string | undefined;
export declare function build(target?: BuildProject): Promise<string>;
export declare function ensureBuilt(target?: BuildProject): Promise<string>;
export declare function compiledEntry(buildDir: string, source: string, entries?: Record<string, string>): string;
export declare function sha256(content: string | Buffer): string;
export declare function fileHashes(files: string[], root?: string): Record<string, string | null>;
export declare function writeAtomically(path: string, content: string): void;
export declare const leanNodeFlags: string[];
export declare const leanNodeEnv: Record<string, string>;

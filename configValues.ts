// How config.ts reads one setting from an environment it is given (it never reads process.env
// itself): each parser names the variable and what it expects when a value cannot be used.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The checkout: the nearest directory with a package.json (this module also runs compiled, from .build/<id>/). */
export const projectRoot = (function findProjectRoot(dir: string): string {
  if (existsSync(join(dir, 'package.json')) || dirname(dir) === dir) return dir;
  return findProjectRoot(dirname(dir));
})(here);

/**
 * The compiled build this process runs from (scripts/build.mjs puts every module of a build in one
 * directory), or undefined when it runs as TypeScript (tsx, vitest).
 */
export const runningBuildDir = import.meta.url.endsWith('.js') ? here : undefined;

export interface Endpoint {
  host: string;
  port: number;
}

/** A setting that cannot be used: the message names the variable and what it expects. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Env = Record<string, string | undefined>;

export function text(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value ? value : fallback;
}

export function port(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > 65535) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a TCP port: use a whole number from 1 to 65535.`);
  }
  return value;
}

export function count(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 0 || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a count: use a whole number from 0 to ${max}.`);
  }
  return value;
}

export function urlList(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  return raw.split(',').map((item) => {
    const value = item.trim();
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw new ConfigError(`${name} has ${JSON.stringify(value)}, which is not an http(s) URL: list URL prefixes separated by commas.`);
    }
    return value;
  });
}

/** Lower-cased mail domains: exact names or `*.` and a name (any of its subdomains). */
export function domainList(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  return raw.split(',').map((item) => {
    const value = item.trim().toLowerCase();
    if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(value)) {
      throw new ConfigError(`${name} has ${JSON.stringify(item.trim())}, which is not a domain: list domains (example.com) or subdomain patterns (*.example.com) separated by commas.`);
    }
    return value;
  });
}

/** Host names (or addresses) separated by commas, lower-cased; none when unset. */
export function hostList(env: Env, name: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  return raw.split(',').map((item) => {
    const value = item.trim().toLowerCase();
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$|^\[?[0-9a-f:]+\]?$/.test(value)) {
      throw new ConfigError(`${name} has ${JSON.stringify(item.trim())}, which is not a host name: list names like fleet.example.com or addresses, separated by commas.`);
    }
    return value;
  });
}

export function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(env[name])} is not a yes/no setting: use true or false.`);
}

export function directory(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  return isAbsolute(raw) ? raw : resolve(projectRoot, raw);
}

export function splitHostPort(address: string, name: string): Endpoint {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) throw new ConfigError(`${name}=${JSON.stringify(address)} must look like host:port, for example 127.0.0.1:7233.`);
  return { host: match[1]!, port: port({ [name]: match[2] }, name, 7233) };
}

// `npm run load -- NAME [options]`: a load test against a running stack, on this machine only
// (`npm run load -- NAME --help` lists its options). Exits 1 when the load found failures.
import { reportFatal } from '../scripts/setup.ts';

const loads: Record<string, (args: string[]) => Promise<number>> = {
  'config-cache': async (args) => (await import('./configCacheLoad.ts')).configCacheLoadCli(args),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? loads[name] : undefined;
  if (!load) {
    console.error(`error: unknown load test ${JSON.stringify(name ?? '')}; available: ${Object.keys(loads).join(', ')}.`);
    process.exit(2);
  }
  process.exitCode = await load(args);
}

main().catch(reportFatal);

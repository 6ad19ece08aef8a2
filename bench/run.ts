// `npm run bench -- NAME`: runs one benchmark; its last line of output is one JSON object
// (../shared/BENCHMARKS.md). Each benchmark starts what it needs and stops it afterwards.
import { reportFatal } from '../scripts/setup.ts';

const benchmarks: Record<string, (args: string[]) => Promise<Record<string, unknown>>> = {
  'stack-start': async () => (await import('./stackStart.ts')).stackStartBenchmark(),
  'request-run': async () => (await import('./requestRun.ts')).requestRunBenchmark(),
  'request-run-racy': async () => (await import('./requestRun.ts')).requestRunRacyBenchmark(),
  'request-run-crash': async () => (await import('./requestRun.ts')).requestRunCrashBenchmark(),
  'cf-converge': async () => (await import('./cfConverge.ts')).cfConvergeBenchmark(),
  'config-cache': async () => (await import('./configCache.ts')).configCacheBenchmark(),
  nodes: async () => (await import('./nodes.ts')).nodesBenchmark(),
  triggers: async () => (await import('./triggers.ts')).triggersBenchmark(),
  chaos: async (args) => (await import('./chaos.ts')).chaosBenchmark(args),
  fractals: async () => (await import('./fractals.ts')).fractalsBenchmark(),
  footprint: async () => (await import('./footprint.ts')).footprintBenchmark(),
};

async function main(): Promise<void> {
  const name = process.argv[2];
  const bench = name ? benchmarks[name] : undefined;
  if (!bench) {
    console.error(`error: unknown benchmark ${JSON.stringify(name ?? '')}; available: ${Object.keys(benchmarks).join(', ')}.`);
    process.exit(2);
  }
  const result = await bench(process.argv.slice(3));
  console.log(JSON.stringify({ bench: name, ...result }));
}

main().catch(reportFatal);

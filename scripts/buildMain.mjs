// `node scripts/buildMain.mjs`: builds .build/ when a source changed (scripts/build.mjs) and prints
// the build's directory. A process of its own, so that the supervisor never loads esbuild.
import { ensureBuilt } from './build.mjs';

try {
  console.log(await ensureBuilt());
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

// `tsx workers/bundleMain.ts <workflows entry> <out file>`: the child process in which
// workers/bundleCache.ts builds a workflow bundle, so webpack never lives in the supervisor's memory.
import { writeWorkflowBundle } from './bundle.ts';

const [entry, outFile] = process.argv.slice(2);
if (!entry || !outFile) {
  console.error('usage: tsx workers/bundleMain.ts <workflows entry> <out file>');
  process.exit(2);
}
writeWorkflowBundle(outFile, entry).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

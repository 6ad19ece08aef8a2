// `node .build/<id>/stack-task.js <task> <input JSON>`: one of scripts/stackTasks.ts, run for the
// supervisor (scripts/compiled.ts runStackTask). Its result is the last line of stdout, as JSON.
import { ConfigError, loadConfig } from '../config.ts';
import { StackError } from './processes.ts';
import { stackTasks, type StackTaskName } from './stackTasks.ts';

const [name, input] = process.argv.slice(2);
const task = stackTasks[name as StackTaskName] as ((config: ReturnType<typeof loadConfig>, input: unknown) => Promise<unknown>) | undefined;
if (!task) {
  console.error(`usage: stack-task.js <${Object.keys(stackTasks).join('|')}> [input JSON]`);
  process.exit(2);
}
task(loadConfig(), JSON.parse(input ?? '{}')).then(
  (result) => process.stdout.write(`${JSON.stringify(result ?? {})}\n`, () => process.exit(0)),
  (error: unknown) => {
    console.error(error instanceof StackError || error instanceof ConfigError ? `error: ${error.message}` : error);
    process.exit(1);
  },
);

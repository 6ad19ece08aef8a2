// Temporal is ready for the stack: the frontend answers, the namespace exists and has the project's
// search attributes. Run in a stack task's process (scripts/stackTasks.ts), not in the supervisor.
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Config } from '../config.ts';
import type { ManagedProcess } from './processes.ts';
import { connectWhenAnswering } from '../temporal/connection.ts';
import { projectSearchAttributes } from '../temporal/searchAttributes.ts';

const { temporal } = proto; // CommonJS package: named imports do not resolve under ESM

const indexedValueTypes: Record<string, number> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Waits until the frontend answers and the namespace exists. */
export async function waitForTemporal(config: Config, options: { timeoutMs: number; process?: ManagedProcess }): Promise<void> {
  await (await connectWhenAnswering(config, options)).close();
}

/**
 * Registers any of the project's search attributes the namespace lacks. The dev server only
 * registers `--search-attribute` when it creates a namespace, so a data file from an earlier
 * version would miss attributes added since.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  keys: readonly { name: string; type: string }[] = projectSearchAttributes,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = keys.filter((key) => !known.has(key.name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueTypes[key.type]!])),
    });
  }
  return missing.map((key) => key.name);
}

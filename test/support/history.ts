// Workflow histories as Temporal's server holds them (raw protos over gRPC, no data converter), and
// as a reader with the payload codec's keys sees them (every payload decoded).
import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto; // CommonJS package: named imports do not resolve under ESM
type History = proto.temporal.api.history.v1.IHistory;

/** Every page of a workflow's history, straight from the frontend's GetWorkflowExecutionHistory. */
export async function rawHistory(client: Client, workflowId: string): Promise<History> {
  const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId }, nextPageToken });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { events };
}

/** The history serialised as the server sends it: every field, every payload's bytes. */
export function historyBytes(history: History): Buffer {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

const isPayload = (value: object): value is Payload => 'data' in value && 'metadata' in value && (value as Payload).data instanceof Uint8Array;

/** A copy of `value` with every payload in it decoded by `codec` (failures' encoded attributes included). */
export async function decodePayloads<T>(value: T, codec: PayloadCodec): Promise<T> {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return value;
  if (isPayload(value)) return (await codec.decode([value]))[0] as T;
  if (Array.isArray(value)) return (await Promise.all(value.map((v: unknown) => decodePayloads(v, codec)))) as T;
  const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await decodePayloads(v, codec)] as const));
  return Object.fromEntries(entries) as T;
}

/** Every string and every byte string (as UTF-8) in a value, joined: what a reader of it could see. */
export function visibleText(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return '';
  return Object.values(value).map(visibleText).join('\n');
}

// A table of workflow executions, one row each (`data-workflow-id`): every page that lists
// executions picks its columns from `executionColumns` or brings its own.
import type { Child } from 'hono/jsx';
import type { ExecutionSummary } from '../../services/executions.ts';
import { Duration, StatusBadge, Time } from './format.tsx';

export interface ExecutionColumn {
  header: Child;
  cell(execution: ExecutionSummary): Child;
}

function TemporalLink({ url, children }: { url: string; children: Child }) {
  return (
    <a href={url} target="_blank" rel="noopener">
      {children}
    </a>
  );
}

export const executionColumns = {
  /** The workflow ID, linked to the page that shows it (`href`), or else to its history in the Temporal Web UI. */
  workflowId: (href?: (execution: ExecutionSummary) => string, header: Child = 'Workflow ID'): ExecutionColumn => ({
    header,
    cell: (e) => (href ? <a href={href(e)}>{e.workflowId}</a> : <TemporalLink url={e.webUiUrl}>{e.workflowId}</TemporalLink>),
  }),
  type: { header: 'Type', cell: (e) => e.type } satisfies ExecutionColumn,
  /** Temporal's status of the execution (running, completed, failed, …). */
  execution: { header: 'Status', cell: (e) => <StatusBadge status={e.status} /> } satisfies ExecutionColumn,
  /** The domain's own state (the FleetStatus search attribute) where it set one, Temporal's otherwise. */
  state: { header: 'State', cell: (e) => <StatusBadge status={e.fleetStatus ?? e.status} /> } satisfies ExecutionColumn,
  /** The domain's own state as plain text beside Temporal's. */
  detail: { header: 'Detail', cell: (e) => e.fleetStatus ?? '' } satisfies ExecutionColumn,
  started: { header: 'Started', cell: (e) => <Time iso={e.startTime} /> } satisfies ExecutionColumn,
  ended: { header: 'Ended', cell: (e) => <Time iso={e.closeTime} /> } satisfies ExecutionColumn,
  duration: { header: 'Duration', cell: (e) => <Duration from={e.startTime} to={e.closeTime} /> } satisfies ExecutionColumn,
  temporal: { header: '', cell: (e) => <TemporalLink url={e.webUiUrl}>Temporal ↗</TemporalLink> } satisfies ExecutionColumn,
};

export interface ExecutionsTableProps {
  executions: ExecutionSummary[];
  columns: ExecutionColumn[];
  /** What shows instead of an empty table. */
  empty: Child;
  /** The table's class (default `executions`). */
  name?: string;
}

export function ExecutionsTable({ executions, columns, empty, name = 'executions' }: ExecutionsTableProps) {
  if (executions.length === 0) return <p class="muted">{empty}</p>;
  return (
    <table class={name}>
      <thead>
        <tr>
          {columns.map((column) => (
            <th>{column.header}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {executions.map((execution) => (
          <tr data-workflow-id={execution.workflowId}>
            {columns.map((column) => (
              <td>{column.cell(execution)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// The UI's shared formatting components, rendered to strings with hono/jsx: no servers, no browser.
import { describe, expect, it } from 'vitest';
import type { ExecutionSummary } from '../../services/executions.ts';
import { ExecutionsTable, executionColumns } from '../../ui/components/executionsTable.tsx';
import { Duration, Percent, percentOf, StatusBadge, Time } from '../../ui/components/format.tsx';
import { ProgressBar } from '../../ui/components/progressBar.tsx';

const html = (element: unknown) => String(element);
const dash = '<span class="muted">–</span>';

describe('<Time>', () => {
  it('shows a moment in UTC to the second, machine-readable in datetime', () => {
    expect(html(<Time iso="2024-11-22T10:15:03.123Z" />)).toBe('<time datetime="2024-11-22T10:15:03.123Z">2024-11-22 10:15:03</time>');
  });

  it('shows a muted dash, or what it is told, when there is no moment', () => {
    expect(html(<Time iso={null} />)).toBe(dash);
    expect(html(<Time iso={undefined} missing="running" />)).toBe('<span class="muted">running</span>');
  });
});

describe('<Duration>', () => {
  const cases: [ms: number, text: string][] = [
    [0, '0 ms'],
    [850, '850 ms'],
    [4_200, '4.2 s'],
    [95_000, '95 s'],
    [12 * 60_000, '12 min'],
    [59 * 60_000 + 50_000, '1 h'],
    [4.5 * 3_600_000, '4 h 30 min'],
    [-2_000, '0 ms'],
  ];
  it.each(cases)('writes %d ms as %s', (ms, text) => {
    expect(html(<Duration ms={ms} />)).toBe(text);
  });

  it('measures from a start to an end', () => {
    expect(html(<Duration from="2024-11-22T10:00:00.000Z" to="2024-11-22T10:00:01.500Z" />)).toBe('1.5 s');
  });

  it('shows a muted dash for an unknown duration', () => {
    expect(html(<Duration ms={null} />)).toBe(dash);
    expect(html(<Duration ms={undefined} />)).toBe(dash);
  });
});

describe('<Percent>', () => {
  it('writes a fraction or a part of a whole in percent', () => {
    expect(html(<Percent fraction={0.25} />)).toBe('25 %');
    expect(html(<Percent fraction={0.987} digits={1} />)).toBe('98.7 %');
    expect(html(<Percent part={1} whole={3} digits={1} />)).toBe('33.3 %');
  });

  it('makes nothing of nothing', () => {
    expect(html(<Percent part={0} whole={0} />)).toBe('0 %');
    expect(percentOf(5, 0)).toBe(0);
  });

  it('gives bar widths to one decimal, never over 100', () => {
    expect(percentOf(1, 3)).toBe(33.3);
    expect(percentOf(12, 10)).toBe(100);
  });
});

describe('<StatusBadge>', () => {
  it('classes a badge by its state and words Temporal’s statuses', () => {
    expect(html(<StatusBadge status="TIMED_OUT" />)).toBe('<span class="badge timed-out">timed out</span>');
    expect(html(<StatusBadge status="compensation-failed" />)).toBe('<span class="badge compensation-failed">compensation-failed</span>');
  });

  it('takes a label and a title', () => {
    expect(html(<StatusBadge status="failed" label="push failed" title="staging failed" />)).toBe('<span class="badge failed" title="staging failed">push failed</span>');
  });
});

describe('<ProgressBar>', () => {
  it('draws the done part, then the failed part after it, under its caption', () => {
    expect(html(<ProgressBar name="nodes" tone="counted" total={4} done={2} failed={1}>3 / 4</ProgressBar>)).toBe(
      '<div class="progress" data-progress="nodes"><svg class="bars" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true">' +
        '<rect class="bar counted" width="50" height="1"></rect><rect class="bar failed" x="50" width="25" height="1"></rect></svg><span>3 / 4</span></div>',
    );
  });

  it('draws no failed part when failures are not counted', () => {
    expect(html(<ProgressBar total={10} done={10}>done</ProgressBar>)).toBe(
      '<div class="progress"><svg class="bars" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true"><rect class="bar" width="100" height="1"></rect></svg><span>done</span></div>',
    );
  });
});

describe('<ExecutionsTable>', () => {
  const execution: ExecutionSummary = {
    workflowId: 'health-check',
    runId: 'run-1',
    type: 'healthCheck',
    status: 'COMPLETED',
    domain: 'health',
    fleetStatus: 'healthy',
    startTime: '2024-11-22T10:00:00.000Z',
    closeTime: '2024-11-22T10:00:02.000Z',
    webUiUrl: 'http://temporal.test/namespaces/default/workflows/health-check/run-1/history',
  };
  const { workflowId, execution: status, detail, started, duration, state } = executionColumns;

  it('says what it says when there is nothing to list', () => {
    expect(html(<ExecutionsTable executions={[]} columns={[workflowId()]} empty="None yet." />)).toBe('<p class="muted">None yet.</p>');
  });

  it('renders a row per execution with the chosen columns, linked into the Temporal Web UI', () => {
    const table = html(<ExecutionsTable executions={[execution]} columns={[workflowId(), status, detail, started, duration]} empty="None yet." />);
    expect(table).toBe(
      '<table class="executions"><thead><tr><th>Workflow ID</th><th>Status</th><th>Detail</th><th>Started</th><th>Duration</th></tr></thead><tbody>' +
        '<tr data-workflow-id="health-check">' +
        `<td><a href="${execution.webUiUrl}" target="_blank" rel="noopener">health-check</a></td>` +
        '<td><span class="badge completed">completed</span></td>' +
        '<td>healthy</td>' +
        '<td><time datetime="2024-11-22T10:00:00.000Z">2024-11-22 10:00:00</time></td>' +
        '<td>2.0 s</td>' +
        '</tr></tbody></table>',
    );
  });

  it('links to the product’s own page when given one, and shows the domain’s state', () => {
    const table = html(<ExecutionsTable name="runs" executions={[execution]} columns={[workflowId((e) => `/health/${e.workflowId}`, 'Check'), state]} empty="" />);
    expect(table).toContain('<table class="runs">');
    expect(table).toContain('<th>Check</th>');
    expect(table).toContain('<td><a href="/health/health-check">health-check</a></td>');
    expect(table).toContain('<span class="badge healthy">healthy</span>');
  });
});

// A small server-rendered SVG line chart: no client code, so htmx can swap it in as HTML.
export interface ChartSeries {
  label: string;
  color: string;
  points: [x: number, y: number][];
}

export interface LineChartProps {
  series: ChartSeries[];
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Lowest top of the y axis (e.g. 100 for percentages). */
  minYMax?: number;
}

/** A legend's colour square: an SVG fill rather than an inline style, which the pages' CSP refuses. */
export function Swatch({ color }: { color: string }) {
  return (
    <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">
      <rect width="10" height="10" rx="2" fill={color} />
    </svg>
  );
}

/** 1, 2 or 5 times a power of ten, at least `value`: axis maxima people can read. */
export function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  if (value >= 1000) return `${Math.round(value / 100) / 10}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function LineChart({ series, xLabel, yLabel, width = 720, height = 240, minYMax = 1 }: LineChartProps) {
  const margin = { top: 12, right: 16, bottom: 36, left: 52 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.points);
  const xMin = all.length ? Math.min(...all.map((p) => p[0])) : 0;
  const xMax = all.length ? Math.max(...all.map((p) => p[0]), xMin + 1) : 1;
  const yMax = niceCeiling(Math.max(minYMax, ...all.map((p) => p[1])));
  const x = (v: number) => margin.left + ((v - xMin) / (xMax - xMin)) * plotWidth;
  const y = (v: number) => margin.top + plotHeight - (v / yMax) * plotHeight;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  // Whole-number ticks without repeats (a 2-second run must not read "0 0 1 1 1").
  const xTicks = [...new Set([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(xMin + f * (xMax - xMin))))];
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={`${yLabel} by ${xLabel}`}>
        {yTicks.map((t) => (
          <g>
            <line x1={margin.left} x2={width - margin.right} y1={y(t)} y2={y(t)} class="grid" />
            <text x={margin.left - 6} y={y(t) + 4} text-anchor="end" class="tick">{formatTick(t)}</text>
          </g>
        ))}
        {xTicks.map((t) => (
          <text x={x(t)} y={height - margin.bottom + 16} text-anchor="middle" class="tick">{formatTick(t)}</text>
        ))}
        <text x={margin.left + plotWidth / 2} y={height - 4} text-anchor="middle" class="axis-label">{xLabel}</text>
        <text x={12} y={margin.top + plotHeight / 2} text-anchor="middle" class="axis-label" transform={`rotate(-90 12 ${margin.top + plotHeight / 2})`}>
          {yLabel}
        </text>
        {series.map((s) =>
          s.points.length > 0 ? (
            <g>
              <polyline
                class="series"
                data-series={s.label}
                fill="none"
                stroke={s.color}
                stroke-width="2"
                points={s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}
              />
              {/* Markers while there are few points: a run of one or two seconds is still visible. */}
              {s.points.length <= 40 ? s.points.map(([px, py]) => <circle cx={x(px).toFixed(1)} cy={y(py).toFixed(1)} r="3" fill={s.color} />) : null}
            </g>
          ) : null,
        )}
      </svg>
      <figcaption class="legend">
        {series.map((s) => (
          <span>
            <Swatch color={s.color} />
            {s.label}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

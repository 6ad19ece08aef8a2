// Small server-rendered SVG charts: no client code, so htmx can swap them in as HTML. LineChart draws
// axes, series, and optionally threshold lines, shaded x-ranges and vertical markers; Sparkline is
// the same scaling without axes, for a table cell.
export interface ChartSeries {
  label: string;
  color: string;
  points: [x: number, y: number][];
}

/** A horizontal line across the plot (a threshold), labelled at its right end. */
export interface ChartThreshold {
  y: number;
  label: string;
}

/** A vertical line at `x` (an event such as a firing), labelled in its title. */
export interface ChartMarker {
  x: number;
  label: string;
}

export interface LineChartProps {
  series: ChartSeries[];
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Lowest top of the y axis (e.g. 100 for percentages). */
  minYMax?: number;
  /** The x range shown (default: the points'); points and markers outside it are dropped. */
  xDomain?: [number, number];
  /** How an x tick reads (default: a number; time axes pass timeOfDay). */
  xFormat?: (x: number) => string;
  thresholds?: ChartThreshold[];
  /** x-ranges shaded behind the series (where a condition held). */
  bands?: [from: number, to: number][];
  markers?: ChartMarker[];
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
  if (Math.abs(value) >= 1000) return `${Math.round(value / 100) / 10}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/**
 * The y range for `values`: from 0 (or a readable floor below the lowest negative value) up to a
 * readable ceiling of at least `minYMax`.
 */
export function yRange(values: number[], minYMax = 1): [number, number] {
  const low = Math.min(0, ...values);
  return [low < 0 ? -niceCeiling(-low) : 0, niceCeiling(Math.max(minYMax, ...values))];
}

/** A linear map of [from0, from1] onto [to0, to1] (an empty domain maps to its start). */
const linear = (from0: number, from1: number, to0: number, to1: number) => (v: number) => (from1 === from0 ? to0 : to0 + ((v - from0) / (from1 - from0)) * (to1 - to0));

export function LineChart({ series: given, xLabel, yLabel, width = 720, height = 240, minYMax = 1, xDomain, xFormat = formatTick, thresholds = [], bands = [], markers: givenMarkers = [] }: LineChartProps) {
  const margin = { top: 12, right: 16, bottom: 36, left: 52 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const inDomain = (v: number) => !xDomain || (v >= xDomain[0] && v <= xDomain[1]);
  const series = given.map((s) => ({ ...s, points: s.points.filter(([px]) => inDomain(px)) }));
  const markers = givenMarkers.filter((m) => inDomain(m.x));
  const all = series.flatMap((s) => s.points);
  const xMin = xDomain?.[0] ?? (all.length ? Math.min(...all.map((p) => p[0])) : 0);
  const xMax = xDomain?.[1] ?? (all.length ? Math.max(...all.map((p) => p[0]), xMin + 1) : 1);
  const [yMin, yMax] = yRange([...all.map((p) => p[1]), ...thresholds.map((t) => t.y)], minYMax);
  const x = linear(xMin, xMax, margin.left, margin.left + plotWidth);
  const y = linear(yMin, yMax, margin.top + plotHeight, margin.top);
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMin + f * (yMax - yMin));
  // Whole-number ticks without repeats (a 2-second run must not read "0 0 1 1 1").
  const xTicks = [...new Set([0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(xMin + f * (xMax - xMin))))];
  const clampX = (v: number) => Math.min(Math.max(v, xMin), xMax);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={`${yLabel} by ${xLabel}`}>
        {bands.map(([from, to]) => (
          <rect class="band" x={x(clampX(from)).toFixed(1)} width={Math.max(1, x(clampX(to)) - x(clampX(from))).toFixed(1)} y={margin.top} height={plotHeight} />
        ))}
        {yTicks.map((t) => (
          <g>
            <line x1={margin.left} x2={width - margin.right} y1={y(t)} y2={y(t)} class="grid" />
            <text x={margin.left - 6} y={y(t) + 4} text-anchor="end" class="tick">{formatTick(t)}</text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text x={x(t)} y={height - margin.bottom + 16} text-anchor={xTicks.length > 1 && i === 0 ? 'start' : i === xTicks.length - 1 && i > 0 ? 'end' : 'middle'} class="tick">
            {xFormat(t)}
          </text>
        ))}
        <text x={margin.left + plotWidth / 2} y={height - 4} text-anchor="middle" class="axis-label">{xLabel}</text>
        <text x={12} y={margin.top + plotHeight / 2} text-anchor="middle" class="axis-label" transform={`rotate(-90 12 ${margin.top + plotHeight / 2})`}>
          {yLabel}
        </text>
        {thresholds.map((t) => (
          <g class="threshold" data-threshold={String(t.y)}>
            <line x1={margin.left} x2={width - margin.right} y1={y(t.y).toFixed(1)} y2={y(t.y).toFixed(1)} />
            <text x={width - margin.right - 4} y={(y(t.y) - 4).toFixed(1)} text-anchor="end">{t.label}</text>
          </g>
        ))}
        {markers.map((m) => (
          <line class="marker" data-marker={String(m.x)} x1={x(m.x).toFixed(1)} x2={x(m.x).toFixed(1)} y1={margin.top} y2={margin.top + plotHeight}>
            <title>{m.label}</title>
          </line>
        ))}
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

/** A line without axes for a table cell, over `xDomain`, with an optional threshold line. */
export function Sparkline({ points, xDomain, threshold, width = 160, height = 32, label }: { points: [x: number, y: number][]; xDomain: [number, number]; threshold?: number; width?: number; height?: number; label: string }) {
  const shown = points.filter(([px]) => px >= xDomain[0] && px <= xDomain[1]);
  const [yMin, yMax] = yRange([...shown.map((p) => p[1]), ...(threshold === undefined ? [] : [threshold])]);
  const x = linear(xDomain[0], xDomain[1], 1, width - 1);
  const y = linear(yMin, yMax, height - 2, 2);
  return (
    <svg class="sparkline" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={label}>
      {threshold === undefined ? null : <line class="threshold" x1="0" x2={width} y1={y(threshold).toFixed(1)} y2={y(threshold).toFixed(1)} />}
      {shown.length > 0 ? <polyline class="series" fill="none" points={shown.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')} /> : null}
      {/* The latest value as a dot: a trigger sampled for a minute is still visible in an hour's width. */}
      {shown.length > 0 ? <circle class="latest" cx={x(shown.at(-1)![0]).toFixed(1)} cy={y(shown.at(-1)![1]).toFixed(1)} r="2.5" /> : null}
    </svg>
  );
}

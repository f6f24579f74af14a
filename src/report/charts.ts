/**
 * The Pareto charts: GLUE score against size and against latency, one colour per model, every variant labelled
 * with its pipeline (labels placed apart by vega's label transform, one that would overlap every place left out and
 * named in the subtitle), the front of each model drawn as a line through its (filled, larger) points; a stale point
 * (computed by other code than the code running now, marked ‡ in the table) is a diamond labelled with ‡, and stays
 * in its front as the sweep ranks it. Specs are Vega-Lite, rendered to SVG on the server (vega's headless view, no
 * canvas, no network).
 */
import type { TopLevelSpec } from 'vega-lite';
import { describeLatencyShapes, type ReportData, type ReportRow } from './rows.ts';
import { hasTeacherColumn, pipelineText, small, STALE_MARK, teacherCell } from './table.ts';

export type ChartKind = 'bytes' | 'latency';

export interface ChartPoint {
  /** The row's group (its model's name, with its sweep when the report holds that name for several fronts): one panel each. */
  model: string;
  label: string;
  x: number;
  /** What the tooltip shows for x: as the table's column of that quantity ('0.041' MB, '2.4' MB, '0.35' ms), not '0.00'. */
  xText: string;
  /** GLUE score ×100. */
  y: number;
  front: boolean;
  /** A baseline row's point: its label is placed right after the front's (renderScene). */
  baseline: boolean;
  /** A stale row's point (see ReportRow.stale): drawn as a diamond, its label marked ‡ (`text`). */
  stale: boolean;
  /** Its pipeline, with ‡ when stale (as the table's pipeline cell): what the tooltip shows. */
  text: string;
  /** What the point's label shows: `text`, cut with … before its ‡ past LABEL_LIMIT pixels. */
  shown: string;
  /**
   * Its teacher and the teacher's size, as the table's teacher column shows it ('big-teacher (0.15M)'; '—' for a row
   * not distilled); '' where the table has no such column (no row distilled), and the tooltips none.
   */
  teacher: string;
  /** Position along the front, for drawing it as a line (-1 when not on it). */
  order: number;
}

/**
 * The widest a point's label is drawn, in pixels (about 36 characters; its tooltip holds it whole): a longer pipeline
 * name (an unnamed pipeline's settings, 'prune-heads 0.4 magnitude + prune-ffn 0.3 …') widened the SVG past its
 * panels by its length, and the HTML page, fitting the SVG to its figure, shrank the whole chart.
 */
export const LABEL_LIMIT = 240;
/**
 * A panel's width (px). A panel's header (its model, or its tasks) is cut with … to it, as vega measures the text
 * (sansTextWidth while rendering), and drawn from the panel's left edge (labelAnchor start: vega-lite's default anchor, middle,
 * drew it from the panel's middle, past the panel by half its width): a long model name widened the SVG past the panels.
 */
export const PANEL_WIDTH = 440;
/** A facet's row header: bold, above its panel, cut to PANEL_WIDTH. */
export const PANEL_HEADER = {
  labelFontSize: 12,
  labelFontWeight: 'bold',
  labelAngle: 0,
  labelAlign: 'left',
  labelAnchor: 'start',
  labelOrient: 'top',
  labelLimit: PANEL_WIDTH,
};
/** The font size of a point's label (px). */
const LABEL_SIZE = 11;
/** A Pareto chart panel's height (px). */
const PANEL_HEIGHT = 220;
/**
 * The name of a chart's layer of point labels (the Pareto charts', the teacher-size chart's): vega-lite names its marks
 * `labels_marks`, to which renderScene adds vega's label transform (vega-lite has none).
 */
export const LABELS = 'labels';
/**
 * Where a point's label may go, in order of preference, each LABEL_OFFSET px from the point's centre, clear of its
 * circle (140 px² at most: a radius under 7 px): beside it first, at its height (above or below it, a label sits beside
 * the point above or below, which it would seem to name), then at its corners, then above and below it.
 */
const LABEL_ANCHORS = ['right', 'left', 'top-right', 'bottom-right', 'top-left', 'bottom-left', 'top', 'bottom'];
const LABEL_OFFSET = 9;

const AXES: Record<ChartKind, { title: string; x: string; decimals: number }> = {
  // decimals: as the table's 'weights MB' and 'p50 ms' columns
  bytes: { title: 'GLUE score vs model size', x: 'weights (MB)', decimals: 1 },
  latency: { title: 'GLUE score vs latency', x: 'p50 latency (ms)', decimals: 2 },
};

/** The chart's points: every row with a GLUE score over all the tasks its sweep planned (ReportRow.missingTasks). */
export function chartPoints(data: ReportData, kind: ChartKind): ChartPoint[] {
  const x = (r: ReportRow) => (kind === 'bytes' ? r.bytes / 1e6 : r.latencyMs);
  const front = (r: ReportRow) => (kind === 'bytes' ? r.frontBytes : r.frontLatency);
  const rows = data.rows.filter((r) => r.glue !== null && r.missingTasks.length === 0);
  const teachers = hasTeacherColumn(data);
  const points = rows.map((r) => ({
    model: r.group,
    label: r.label,
    x: x(r),
    xText: small(x(r), AXES[kind].decimals),
    y: 100 * r.glue!,
    front: front(r),
    baseline: r.isBaseline,
    stale: r.stale !== null,
    text: pipelineText(r),
    shown: fitText(r.label, LABEL_LIMIT, LABEL_SIZE, front(r), r.stale !== null ? STALE_MARK : ''),
    teacher: teachers ? (teacherCell(r) ?? '—') : '',
    order: -1,
  }));
  const byModel = new Map<string, ChartPoint[]>();
  for (const p of points) if (p.front) byModel.set(p.model, [...(byModel.get(p.model) ?? []), p]);
  for (const list of byModel.values()) list.sort((a, b) => a.x - b.x).forEach((p, i) => (p.order = i));
  return points;
}

/** The pixels a chart's scales keep clear at each end of a panel's points, for the labels there. */
export const SCALE_PADDING = 16;

/**
 * A chart's x scale and the layer that pads it, for a quantity that cannot be negative (MB, ms, parameters): the x
 * encoding `x` takes no padding of its own (its scale `{ zero: false, nice: true, padding: 0 }`), and a transparent
 * rule per panel (`panel`: the field the panels are faceted by) spans SCALE_PADDING pixels past each end of the
 * panel's points as vega's scale padding does, but from no less than 0: vega's padding, applied after the data's
 * extent, reached past 0 and drew a −0.2 (ms, MB) tick in a panel whose smallest point was 0.04.
 */
export function nonNegativeX<X extends { field: string }>(x: X, panel: string, width: number): { x: X & { scale: object }; layer: object } {
  const scaled = { ...x, scale: { zero: false, nice: true, padding: 0 } };
  // (vega's padding on a linear scale: the extent widened by pad / (width − 2 pad) of itself at each end)
  const share = SCALE_PADDING / (width - 2 * SCALE_PADDING);
  const layer = {
    transform: [
      {
        aggregate: [
          { op: 'min', field: x.field, as: 'low' },
          { op: 'max', field: x.field, as: 'high' },
        ],
        groupby: [panel],
      },
      { calculate: `max(0, datum.low - (datum.high - datum.low) * ${share})`, as: 'paddedLow' },
      { calculate: `datum.high + (datum.high - datum.low) * ${share}`, as: 'paddedHigh' },
    ],
    mark: { type: 'rule', opacity: 0 },
    encoding: { x: { ...scaled, field: 'paddedLow' }, x2: { field: 'paddedHigh' } },
  };
  return { x: scaled, layer };
}

/** The font size of a chart's subtitle (px; vega's default, 10, measured larger to be safe). */
const SUBTITLE_SIZE = 12;
/** A Pareto chart's or the teacher-size chart's note of the points whose labels fit nowhere (renderLabelled). */
export const UNLABELLED_HEADING = 'without a label (it would overlap others wherever placed; see the table)';

/**
 * A subtitle's list: `heading:` and `items` after it, each but the last followed by `separator`, in lines at most
 * PANEL_WIDTH pixels wide as a subtitle draws them (sansTextWidth; a line holding one item or the heading alone may be
 * wider), an item never split: a list of many models or points drawn in one line widened the SVG past its panels.
 */
export function listLines(heading: string, items: readonly string[], separator = ','): string[] {
  const lines = [`${heading}:`];
  items.forEach((item, i) => {
    const text = i < items.length - 1 ? `${item}${separator}` : item;
    const joined = `${lines[lines.length - 1]} ${text}`;
    if (sansTextWidth(joined, SUBTITLE_SIZE) <= PANEL_WIDTH) lines[lines.length - 1] = joined;
    else lines.push(text);
  });
  return lines;
}

/**
 * What a filled point is, in two subtitle lines (one would widen the chart past its panels), for an axis on which
 * `x` is better ('small', 'fast'): a point is on the front when no other is better on one axis and as good on the
 * other (paretoMask), so of two points of one size the better alone, where 'nothing else is both smaller and better'
 * said both were.
 */
const frontRule = (x: 'small' | 'fast'): string[] => [
  "filled: on the Pareto front of its model's variants in its sweep:",
  `nothing else is ${x === 'small' ? 'smaller' : 'faster'} and as good or better, or as ${x} and better`,
];

/**
 * The Vega-Lite spec of one chart. `unlabelled`: the points whose labels the rendering could place nowhere without
 * overlapping another's (renderChart), named in the subtitle.
 */
export function chartSpec(data: ReportData, kind: ChartKind, unlabelled: readonly ChartPoint[] = []): TopLevelSpec {
  const { title, x } = AXES[kind];
  const subtitle =
    kind === 'latency' && data.rows.length > 0
      ? [`p50 at ${describeLatencyShapes(data.rows)}; a variant: its baseline's p50 ÷ its speed-up`, ...frontRule('fast')]
      : ['weights: bytes of all initializers', ...frontRule('small')];
  // a model with no scored point has no panel (and a chart of none only its title): say so, not leave it out unsaid
  const unscored = [...new Set(data.rows.map((r) => r.group))].filter(
    (g) => !data.rows.some((r) => r.group === g && r.glue !== null && r.missingTasks.length === 0),
  );
  if (unscored.length > 0) subtitle.push(...listLines('no scored point (no GLUE score, so no panel)', unscored));
  const partial = data.rows.filter((r) => r.glue !== null && r.missingTasks.length > 0);
  if (partial.length > 0)
    subtitle.push(
      ...listLines(
        'left out (GLUE over fewer tasks than planned)',
        partial.map((r) => `${r.group} · ${r.label} (no ${r.missingTasks.join(', ')})`),
        ';',
      ),
    );
  const points = chartPoints(data, kind);
  // the chart's legend for its one shape besides the circle, as 'filled:' is for the front
  if (points.some((p) => p.stale))
    subtitle.push(
      `diamond, ${STALE_MARK}: stale, computed by other code than the bert-compress running now or on data since changed (see the table's ${STALE_MARK} note)`,
    );
  if (unlabelled.length > 0)
    subtitle.push(
      ...listLines(
        UNLABELLED_HEADING,
        unlabelled.map((p) => `${p.model} · ${p.text}`),
      ),
    );
  // at most six significant digits, trailing zeros trimmed: a panel of one point (or one x) has a one-value domain,
  // of which vega's own tick format printed '40.000000'
  const axis = { format: ',~r' };
  // (sizes and latencies are never negative: the x axis is padded from 0 at the least, the y axis, a score that can be, by vega)
  const padded = nonNegativeX({ field: 'x', type: 'quantitative' as const, title: x, axis }, 'model', PANEL_WIDTH);
  const xEnc = padded.x;
  const yEnc = { field: 'y', type: 'quantitative' as const, title: 'GLUE score (dev, ×100)', scale: { zero: false, nice: true, padding: SCALE_PADDING }, axis };
  const color = { field: 'model', type: 'nominal' as const, title: 'model' };
  const layer = [
    padded.layer,
    {
      transform: [{ filter: 'datum.front' }],
      mark: { type: 'line', strokeWidth: 2, opacity: 0.7 },
      encoding: { x: xEnc, y: yEnc, color, order: { field: 'order', type: 'quantitative' } },
    },
    {
      mark: { type: 'point', size: 90, strokeWidth: 2 },
      encoding: {
        x: xEnc,
        y: yEnc,
        color,
        fill: { condition: { test: 'datum.front', field: 'model', type: 'nominal' }, value: 'white' },
        size: { condition: { test: 'datum.front', value: 140 }, value: 70 },
        shape: { condition: { test: 'datum.stale', value: 'diamond' }, value: 'circle' },
        tooltip: [
          { field: 'model' },
          { field: 'text', title: 'pipeline' },
          // (students of several teachers in one panel: which each is, and its size, as the table's teacher column)
          ...(points.some((p) => p.teacher !== '') ? [{ field: 'teacher', title: 'teacher' }] : []),
          { field: 'xText', title: x },
          { field: 'y', title: 'GLUE', format: '.2f' },
        ],
      },
    },
    {
      // (one layer for every label, so that renderScene places them apart from each other: bold on the front)
      name: LABELS,
      mark: { type: 'text', fontSize: LABEL_SIZE, fontWeight: { expr: "datum.front ? 'bold' : 'normal'" } },
      encoding: { x: xEnc, y: yEnc, text: { field: 'shown' }, color },
    },
  ];
  // One panel per model, each with its own scales: the models are scored on different tasks.
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, subtitle },
    background: 'white',
    data: { values: points },
    facet: {
      row: {
        field: 'model',
        type: 'nominal',
        // (the panels in the table's order of models, compareText's: vega's own sorts by code units, 'Zeta' before 'alpha')
        sort: [...new Set(points.map((p) => p.model))],
        title: null,
        header: PANEL_HEADER,
      },
    },
    spec: { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    config: { font: 'sans-serif', legend: { disable: true } },
  } as unknown as TopLevelSpec;
}

/**
 * Advance widths (em) of the printable ASCII characters, space to ~, in DejaVu Sans (its hmtx table), the sans-serif
 * of most Linux desktops and wider than Helvetica's or Arial's, so that text measured by them fits wherever it is drawn.
 */
const SANS_WIDTHS = [
  0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.318, 0.337, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636,
  0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531, 1.0, 0.684, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863,
  0.748, 0.787, 0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838, 0.5, 0.5, 0.613, 0.635, 0.55, 0.635,
  0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525,
  0.636, 0.337, 0.636, 0.838,
];

/**
 * The width in pixels of `text` drawn in a sans-serif font of `fontSize` px (bold: 10% wider, as DejaVu Sans Bold): by
 * SANS_WIDTHS, a character beyond ASCII 0.7 em, one of the wide scripts (CJK, emoji) 1 em.
 */
export function sansTextWidth(text: string, fontSize: number, bold = false): number {
  let em = 0;
  for (const c of text) {
    const code = c.codePointAt(0)!;
    em += code >= 32 && code < 127 ? SANS_WIDTHS[code - 32]! : code >= 0x2e80 ? 1 : 0.7;
  }
  return em * fontSize * (bold ? 1.1 : 1);
}

/**
 * `text` and `mark` after it (a stale point's ‡), `text` cut with … to fit `px` pixels (sansTextWidth), or as they
 * are where they fit: the mark is kept whole.
 */
export function fitText(text: string, px: number, fontSize: number, bold = false, mark = ''): string {
  if (sansTextWidth(text + mark, fontSize, bold) <= px) return text + mark;
  const chars = [...text];
  while (chars.length > 0 && sansTextWidth(`${chars.join('')}…${mark}`, fontSize, bold) > px) chars.pop();
  return `${chars.join('')}…${mark}`;
}

/** How many renderSvg calls are under way (text measured by sansTextWidth while any is), and vega's own measure. */
let rendering = 0;
let vegaWidth: ((item: unknown, text: unknown) => number) | undefined;

/**
 * Renders a Vega-Lite spec to SVG text without a browser. vega and vega-lite are loaded here, not at the module's top:
 * vega-canvas awaits `import('canvas')` at its top level, and a module graph holding a top-level await cannot be
 * `require`d (ERR_REQUIRE_ASYNC_MODULE), so a static import made `require('bert-compress')` fail in CommonJS apps.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  return (await renderScene(spec)).svg;
}

/**
 * How renderScene places a chart's labels apart: `size`, a panel's [width, height] (px); `first`, the data fields (true
 * first, in this order) of the labels placed before the others ('front', then 'baseline': a Pareto front's labels).
 */
export interface LabelPlacement {
  size: readonly [number, number];
  first: readonly string[];
}

/**
 * renderSvg, where `labels` places the labels of the layer named LABELS apart, with vega's label transform added to its
 * marks in the compiled spec: each at the first of LABEL_ANCHORS where it overlaps no label placed before (those of
 * `labels.first` first) nor a point's centre, within its panel; one that fits nowhere is left out (opacity 0).
 * `unlabelled`: the data of those left out.
 */
async function renderScene(spec: TopLevelSpec, labels?: LabelPlacement): Promise<{ svg: string; unlabelled: unknown[] }> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  // Without a canvas vega guesses 0.8 em a character, about a third wider than sans-serif text is: every title, label
  // and axis widened the SVG by that much, and the HTML page, fitting it to its figure, drew the chart at about half
  // its size. The chart's text is measured as it is drawn instead (vega's hook for its own measure, as vl-convert uses).
  const metrics = (vega as unknown as { textMetrics: { width: (item: unknown, text: unknown) => number } }).textMetrics; // (vega's typings leave it out)
  if (rendering++ === 0) {
    vegaWidth = metrics.width;
    // A text with a limit (a panel header's labelLimit, a mark's limit) is drawn cut with … to it: vega's own measure
    // bounds it as cut, but a hook is asked the whole text's width (vega cuts by asking it too), which widened the SVG
    // by a long header's length. No more than the limit keeps both right: the cut's comparisons are all against it.
    metrics.width = (item, text) => {
      const it = item as { fontSize?: number; fontWeight?: string | number; limit?: number };
      const size = it.fontSize != null ? +it.fontSize || 0 : 11;
      const bold = it.fontWeight === 'bold' || Number(it.fontWeight) >= 600;
      const width = sansTextWidth(String(text ?? '').trim(), size, bold);
      return Number(it.limit) > 0 ? Math.min(width, Number(it.limit)) : width;
    };
  }
  try {
    const compiled = compile(spec).spec;
    if (labels) {
      const transform = [
        {
          type: 'label',
          size: [...labels.size],
          anchor: LABEL_ANCHORS,
          offset: [LABEL_OFFSET],
          padding: 0,
          sort: { field: labels.first.map((f) => `datum.${f}`), order: labels.first.map(() => 'descending') },
        },
      ];
      const place = (marks: unknown[] | undefined): void => {
        for (const m of (marks ?? []) as Array<{ name?: string; marks?: unknown[]; transform?: unknown[] }>) {
          if (m.name === `${LABELS}_marks`) m.transform = transform;
          place(m.marks);
        }
      };
      place(compiled.marks);
    }
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    try {
      const svg = await view.toSVG();
      const unlabelled: unknown[] = [];
      // (vega's typings give the scenegraph no root: its items, each a mark's or a group's, hold their items)
      type SceneItem = { mark?: { name?: string }; opacity?: number; datum?: unknown; items?: SceneItem[] };
      const find = (item: SceneItem): void => {
        if (item.mark?.name === `${LABELS}_marks` && item.opacity === 0) unlabelled.push(item.datum);
        for (const child of item.items ?? []) find(child);
      };
      if (labels) find((view.scenegraph() as unknown as { root: SceneItem }).root);
      return { svg, unlabelled };
    } finally {
      view.finalize();
    }
  } finally {
    if (--rendering === 0) metrics.width = vegaWidth!;
  }
}

/**
 * A chart as SVG, its labels placed apart (renderScene, `labels`); where some fit nowhere, drawn again with those points
 * named in its subtitle (`spec` of them), which leaves the panels, and so the labels' places, as they were.
 */
export async function renderLabelled<P>(spec: (unlabelled: readonly P[]) => TopLevelSpec, labels: LabelPlacement): Promise<string> {
  const first = await renderScene(spec([]), labels);
  if (first.unlabelled.length === 0) return first.svg;
  return (await renderScene(spec(first.unlabelled as P[]), labels)).svg;
}

/** Both charts as SVG. */
export async function renderCharts(data: ReportData): Promise<Record<ChartKind, string>> {
  const labels: LabelPlacement = { size: [PANEL_WIDTH, PANEL_HEIGHT], first: ['front', 'baseline'] };
  const chart = (kind: ChartKind) => renderLabelled<ChartPoint>((unlabelled) => chartSpec(data, kind, unlabelled), labels);
  return { bytes: await chart('bytes'), latency: await chart('latency') };
}

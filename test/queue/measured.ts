/** What a point's result measured that must not depend on where or how often it ran: sizes, GLUE metrics (not times). */
import type { PointResult } from '../../src/sweep/point.ts';

export function measured(r: PointResult) {
  const tasks = Object.fromEntries(Object.entries(r.eval.tasks).map(([name, t]) => [name, { metrics: t.metrics, examples: t.examples }]));
  return { params: r.params, bytes: r.bytes, fileBytes: r.fileBytes, glue: r.glue, tasks, passes: r.passes };
}

/** Synthetic finished sweep points for report tests: only the fields the report reads carry meaning. */
import { SweepStore, type StoredPoint } from '../../src/sweep/store.ts';
import type { SweepPoint } from '../../src/sweep/plan.ts';
import { currentVersions, pointKey, type PointVersions, type SeedForm } from '../../src/sweep/key.ts';
import { registerAllPasses } from '../../src/passes.ts';
import type { PassStep } from '../../src/pass/pass.ts';
import type { MetricValues } from '../../src/eval/metrics/metric.ts';

export interface FakePoint {
  model: string;
  label: string;
  steps?: PassStep[];
  /** Bytes of the weights; the file on disk is 0.3 MB more (graph, names). */
  bytes: number;
  glue: number | null;
  /** Speed-up at the (single) bench shape; 1 for a baseline. */
  speedup?: number;
  /** Measured p50 (ms). */
  p50?: number;
  task?: string;
  metrics?: MetricValues;
  /** Whether its bench held the machine-wide timing lock (absent: a result stored before it was recorded). */
  timingExclusive?: boolean;
}

const stats = (p50: number) => ({ runs: 5, p50Ms: p50, p90Ms: p50 * 1.1, p99Ms: p50 * 1.2, meanMs: p50, minMs: p50 * 0.9, throughput: 1000 / p50 });

export function fakePoint(f: FakePoint, i = 0): StoredPoint {
  const steps = f.steps ?? (f.label === 'baseline' ? [] : [{ pass: 'prune-heads', settings: { ratio: 0.4 } }]);
  const speedup = f.speedup ?? 1;
  const p50 = f.p50 ?? 10 / speedup;
  const task = f.task ?? 'SST-2';
  return {
    key: `${f.model}-${f.label}-${i}`.padEnd(64, '0'),
    sweep: 'test',
    model: f.model,
    modelPath: `/models/${f.model}/model.onnx`,
    modelSha256: `sha-${f.model}`,
    label: f.label,
    steps,
    tasks: [task],
    toolVersion: '0.1.0',
    finishedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    result: {
      params: Math.round(f.bytes / 4),
      bytes: f.bytes,
      fileBytes: f.bytes + 300_000,
      eval: {
        model: f.model,
        split: 'dev',
        maxLength: 64,
        tasks: { [task]: { metrics: f.metrics ?? (f.glue === null ? {} : { accuracy: f.glue }), examples: 100, seconds: 1 } },
        glueScore: f.glue,
        glueScoreIncludesWnli: false,
      },
      glue: f.glue,
      bench: {
        model: `/out/${f.label}/model.onnx`,
        machine: { cpu: { model: 'Test CPU', cores: 2, flags: { avx2: true, avx512: false, vnni: false } }, onnxruntime: '1.30.0', node: '20.0.0', threads: 1 },
        repeats: 5,
        warmup: 1,
        shapes: [{ batch: 1, seq: 64, model: stats(p50), ...(steps.length ? { baseline: stats(p50 * speedup), speedup } : {}) }],
        ...(steps.length ? { speedup } : {}),
        memory: { model: { sessionRssBytes: 1e6 }, peakRssBytes: 1e8, peakRssScope: 'bench' },
        ...(f.timingExclusive !== undefined
          ? {
              timing: {
                exclusive: f.timingExclusive,
                waitedSeconds: f.timingExclusive ? 0 : 600,
                ...(f.timingExclusive ? {} : { heldBy: 4242, reason: 'busy' }),
              },
            }
          : {}),
        seconds: 1,
      },
      speedup,
      latencyMs: p50,
      passes: steps.map((s) => ({ pass: s.pass, summary: 'did it' })),
      seconds: { compress: 1, eval: 1, bench: 1, total: 3 },
      output: null,
    },
  };
}

/** Two models: an SST-2 one with five variants and an STS-B one with three. */
export function posterPoints(): StoredPoint[] {
  const list: FakePoint[] = [
    { model: 'sst2', label: 'baseline', bytes: 44.7e6, glue: 0.734 },
    { model: 'sst2', label: 'heads-40%', bytes: 42.6e6, glue: 0.72, speedup: 1.2 },
    { model: 'sst2', label: 'int8', bytes: 11.4e6, glue: 0.731, speedup: 1.8, steps: [{ pass: 'quantize', settings: { mode: 'int8' } }] },
    { model: 'sst2', label: 'factorized', bytes: 21e6, glue: 0.7, speedup: 1.0 },
    { model: 'sst2', label: 'combined', bytes: 5.6e6, glue: 0.69, speedup: 2.3 },
    { model: 'stsb', label: 'baseline', bytes: 44.7e6, glue: 0.176, task: 'STS-B', metrics: { pearson: 0.1735, spearmanr: 0.178 } },
    { model: 'stsb', label: 'int8', bytes: 11.4e6, glue: 0.17, speedup: 1.7, task: 'STS-B', metrics: { pearson: 0.17, spearmanr: 0.17 } },
    { model: 'stsb', label: 'broken', bytes: 30e6, glue: null, speedup: 1.1, task: 'STS-B', metrics: {} },
  ];
  return list.map(fakePoint);
}

/**
 * Writes `points` into the store at `path` (created when absent) the way a sweep of the code running now writes them:
 * each planned point with the versions of its code, claimed, then finished, under the key of its plan (not the fake
 * point's: the report, as a sweep, calls a point stored under another key stale). `versions(p)` gives other versions
 * (an older pass's: a stale point), or null for a plan stored before keys held versions (then stored under the fake
 * point's key). `plan(p)` adds to the planned point what a sweep resolved (its `training`, with the teacher's hash).
 * `form(p)` is the form of its seeds its key holds ('written': as earlier code keyed it; key.ts SeedForm).
 * Returns the points as stored, with their keys.
 */
export function storePoints(
  path: string,
  points: readonly StoredPoint[],
  versions?: (p: StoredPoint) => PointVersions | null,
  plan?: (p: StoredPoint) => Partial<SweepPoint> | undefined,
  form?: (p: StoredPoint) => SeedForm,
): StoredPoint[] {
  registerAllPasses();
  const store = SweepStore.open(path);
  const stored: StoredPoint[] = [];
  try {
    for (const p of points) {
      const point = {
        key: p.key,
        sweep: p.sweep,
        model: { name: p.model, onnx: p.modelPath, sha256: p.modelSha256 },
        label: p.label,
        steps: p.steps,
        tasks: p.tasks,
        toolVersion: p.toolVersion,
        ...plan?.(p),
      } as unknown as SweepPoint;
      const v = versions ? versions(p) : currentVersions(p.steps, undefined);
      if (v !== null) {
        point.versions = v;
        point.toolVersion = v.tool;
        point.key = pointKey(point, form?.(p));
      }
      const same = stored.find((s) => s.key === point.key);
      if (same) throw new Error(`storePoints: ${same.model} · ${same.label} and ${p.model} · ${p.label} are one point (the same model, steps and tasks)`);
      store.claim(point);
      store.finish(point, p.result);
      stored.push({ ...p, key: point.key, toolVersion: point.toolVersion });
    }
  } finally {
    store.close();
  }
  return stored;
}

/**
 * A bench shape or eval length a sweep model cannot take (bench.seq beyond its position table, a bench.batch ×
 * bench.seq whose activation would not fit in memory, eval.maxLength beyond the table) failed every point, each only
 * after compressing and evaluating it. The sweep now refuses it in one line, naming the sweep file's setting and the
 * model, before any point runs and before the store is created. So is an eval.batchSize whose batch would not fit in
 * memory (as compress eval refuses its --batch-size), which failed every point naming the batch only as it evaluated.
 * A queued sweep's plan (--queue, its --dry-run too) does not judge its points against the coordinator's memory: they
 * run on the workers' machines, and each point checks what fits there as it runs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { largestActivationBytes } from '../../src/bert/input-limits.ts';
import { discovered } from '../../src/bert/model-inputs.ts';
import { MemoryRefusal, SettingsError } from '../../src/errors.ts';
import { loadModel } from '../../src/onnx/load.ts';
import { checkPointMemory, planSweep } from '../../src/sweep/plan.ts';
import { parseSweepFile } from '../../src/sweep/spec.ts';
import { planSweepFile, runSweep } from '../../src/sweep/run.ts';
import { runMain } from '../helpers/cli.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

/** The machine's memory as the checks read it (node:os totalmem), set per test. */
const memory = vi.hoisted(() => ({ bytes: undefined as number | undefined }));
vi.mock('node:os', async (original) => {
  const os = await original<typeof import('node:os')>();
  const totalmem = () => memory.bytes ?? os.totalmem();
  return { ...os, totalmem, default: { ...os, totalmem } };
});

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
});
afterAll(() => t?.cleanup());

function writeSweep(name: string, bench: string, evalSettings = ''): string {
  const file = join(t.root, `${name}.yaml`);
  writeFileSync(
    file,
    `name: ${name}
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
  - {path: models/tiny-stsb, tasks: [STS-B]}
calibration: false
pipelines:
  - baseline
  - name: ffn
    steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]
bench: {${bench}, repeats: 1, warmup: 0, threads: 1}
eval: {threads: 1${evalSettings}}
`,
  );
  return file;
}

/** runSweep's refusal: a SettingsError with `line`, no event, no store. */
async function refused(name: string, file: string, line: string | RegExp): Promise<void> {
  const store = join(t.root, `${name}.sqlite`);
  const events: string[] = [];
  const run = runSweep({ file, store, onEvent: (e) => events.push(e.type) });
  await expect(run).rejects.toThrow(SettingsError);
  await expect(run).rejects.toThrow(line);
  expect(events).toEqual([]);
  expect(existsSync(store)).toBe(false);
  expect(existsSync(join(t.root, `${name}-models`))).toBe(false);
}

describe('a sweep whose bench shape or eval length its models cannot take', () => {
  it('bench.seq beyond the position table: refused before any point runs, naming the setting and the model', async () => {
    const file = writeSweep('seq', 'batch: [1], seq: [8, 65]');
    await refused('seq', file, `${file}: models[0] 'tiny-sst2': bench.seq 65 is beyond the model's position table (64 tokens at most)`);
  });

  it('a bench.batch × bench.seq whose activation would not fit in memory: refused the same way', async () => {
    // (2^29 × 8 ids: within the longest typed array, its FFN activation 1.1 TB)
    const file = writeSweep('memory', 'batch: [1, 536870912], seq: [8]');
    await refused(
      'memory',
      file,
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: bench\\.batch 536870912 bench\\.seq 8: one activation of models\\[0\\] 'tiny-sst2' would take [\\d,]+ GB, more than this machine's [\\d.,]+ GB of memory; give a smaller bench\\.batch or bench\\.seq$`,
      ),
    );
  });

  it('a bench.batch × bench.seq whose inputs no typed array holds (more than 2^32 ids): refused on any machine, by a queued plan too, and no MemoryRefusal a worker would give back', async () => {
    const file = writeSweep('ids', 'batch: [1, 100000000], seq: [64]');
    const line = `${file}: bench.batch 100000000 bench.seq 64: the inputs of models[0] 'tiny-sst2' would hold 6,400,000,000 ids each, more than the longest typed array Node.js 20 makes (4,294,967,296), on any machine; give a smaller bench.batch or bench.seq`;
    await refused('ids', file, line);
    const queued = planSweepFile({ file, store: join(t.root, 'ids-q.sqlite'), queued: true });
    await expect(queued).rejects.toThrow(line);
    await expect(queued).rejects.not.toThrow(MemoryRefusal);
    // (a sweep file's value: exit 1, as every refusal of a sweep file's values, where compress bench's --batch exits 2)
    const dry = await runMain(['sweep', file, '--dry-run', '--store', join(t.root, 'ids-dry.sqlite')]);
    expect([dry.code, dry.stdout, dry.stderr]).toEqual([1, '', `compress: ${line}\n`]);
    // (2^32 ids, the longest typed array, are planned by a queued plan: left to the workers' memory)
    const edge = writeSweep('ids-edge', 'batch: [1, 67108864], seq: [64]');
    expect((await planSweepFile({ file: edge, store: join(t.root, 'ids-edge.sqlite'), queued: true })).points.length).toBeGreaterThan(0);
  });

  it('bench.repeats whose latencies could not be kept: refused the same way, the memory part left to a queued point', async () => {
    const withRepeats = (name: string, repeats: string): string => {
      const file = writeSweep(name, 'batch: [1], seq: [8]', ', batchSize: 1');
      writeFileSync(file, readFileSync(file, 'utf8').replace('repeats: 1,', `repeats: ${repeats},`));
      return file;
    };
    // beyond the longest Float64Array (the statistics sort a copy in one): no machine keeps them, a queued plan refuses it too
    const endless = withRepeats('repeats-array', '1000000000000');
    await refused(
      'repeats-array',
      endless,
      `${endless}: bench.repeats 1000000000000: the latencies of that many runs could not be kept (at most 4,294,967,296, the longest Float64Array Node.js 20 makes, which the statistics sort); give a smaller bench.repeats, or a bench.maxTime`,
    );
    await expect(planSweepFile({ file: endless, store: join(t.root, 'repeats-q.sqlite'), queued: true })).rejects.toThrow(
      /bench\.repeats 1000000000000: .*the longest Float64Array Node\.js 20 makes/,
    );
    // beyond this machine's memory (a variant's baseline timed beside it): refused here, left to a queued point's worker
    const structure = discovered(loadModel(join(t.root, 'models', 'tiny-sst2', 'model.onnx')))!;
    memory.bytes = largestActivationBytes(structure, 1, 16);
    try {
      const large = withRepeats('repeats-memory', '1000000000');
      await refused(
        'repeats-memory',
        large,
        /: bench\.repeats 1000000000: the latencies of that many runs could not be kept \(at most [\d,]+ with [\d.,]+ (GB|MB|kB|KB) of memory\); give a smaller bench\.repeats, or a bench\.maxTime$/,
      );
      expect((await planSweepFile({ file: large, store: join(t.root, 'repeats-q2.sqlite'), queued: true })).points.length).toBeGreaterThan(0);
    } finally {
      memory.bytes = undefined;
    }
  });

  it('bench.repeats with a bench.maxTime is a ceiling: planned, locally and queued, and left to the worker, whatever the memory', async () => {
    const structure = discovered(loadModel(join(t.root, 'models', 'tiny-sst2', 'model.onnx')))!;
    memory.bytes = largestActivationBytes(structure, 1, 16);
    try {
      for (const repeats of ['1000000000000', '1000000000']) {
        const file = writeSweep(`ceiling-${repeats}`, 'batch: [1], seq: [8], maxTime: 1', ', batchSize: 1');
        writeFileSync(file, readFileSync(file, 'utf8').replace('repeats: 1,', `repeats: ${repeats},`));
        const local = await planSweepFile({ file, store: join(t.root, `ceiling-${repeats}.sqlite`) });
        expect(local.points.length).toBeGreaterThan(0);
        const queued = await planSweepFile({ file, store: join(t.root, `ceiling-q-${repeats}.sqlite`), queued: true });
        for (const p of queued.points) expect(() => checkPointMemory(p)).not.toThrow();
      }
    } finally {
      memory.bytes = undefined;
    }
  });

  it('eval.maxLength beyond the position table: refused the same way', async () => {
    const file = writeSweep('eval', 'batch: [1], seq: [8]', ', maxLength: 100');
    await refused('eval', file, `${file}: models[0] 'tiny-sst2': eval.maxLength 100 is beyond the model's position table (64 tokens at most)`);
  });

  it('planSweep refuses it too (the queue coordinator plans the same way); shapes the models take are planned', async () => {
    const bad = parseSweepFile(writeSweep('plan-bad', 'batch: [1], seq: [65]'));
    await expect(planSweep(bad, { glueDir: t.glueDir, workDir: join(t.root, 'w') })).rejects.toThrow(/bench\.seq 65 is beyond/);
    const edge = parseSweepFile(writeSweep('plan-edge', 'batch: [1, 4], seq: [64]', ', maxLength: 64'));
    const points = await planSweep(edge, { glueDir: t.glueDir, workDir: join(t.root, 'w') });
    expect(points).toHaveLength(4);
  });

  it("an eval.batchSize whose batch would not fit in memory: refused the same way, naming eval.batchSize, not eval's --batch-size", async () => {
    // memory for one example of up to 16 tokens (config.json's max_length), and the bench shape (1 × 8): a batch of
    // the 8 SST-2 dev examples (4 to 9 words each) does not fit, a batch of one does
    const structure = discovered(loadModel(join(t.root, 'models', 'tiny-sst2', 'model.onnx')))!;
    memory.bytes = largestActivationBytes(structure, 1, 16);
    try {
      const file = writeSweep('eval-batch', 'batch: [1], seq: [8]', ', batchSize: 100000');
      const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await refused(
        'eval-batch',
        file,
        new RegExp(
          `^${escaped}: eval\\.batchSize 100000: a batch of 8 SST-2 dev examples of up to \\d+ tokens would take [\\d.]+ GB in one activation of models\\[0\\] 'tiny-sst2', more than this machine's [\\d.]+ GB of memory; give a smaller eval\\.batchSize$`,
        ),
      );
      const fits = parseSweepFile(writeSweep('eval-batch-1', 'batch: [1], seq: [8]', ', batchSize: 1'));
      expect(await planSweep(fits, { glueDir: t.glueDir, workDir: join(t.root, 'w') })).toHaveLength(4);
    } finally {
      memory.bytes = undefined;
    }
  });

  /** Three sweep files a machine of the mocked memory cannot run: a bench shape, an eval batch, a student made from sizes. */
  function memorySweeps(prefix: string): { bench: string; batch: string; student: string } {
    const bench = writeSweep(`${prefix}-bench`, 'batch: [1, 536870912], seq: [8]', ', batchSize: 1');
    const batch = writeSweep(`${prefix}-batch`, 'batch: [1], seq: [8]', ', batchSize: 100000');
    const student = join(t.root, `${prefix}-student.yaml`);
    writeFileSync(
      student,
      `name: ${prefix}-student
glueDir: glue
models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
calibration: false
pipelines:
  - baseline
  - name: kd
    steps: [{pass: distill, settings: {student: 'bert:layers=1', epochs: 1, batchSize: 4, maxLength: 16}}]
bench: {batch: [1], seq: [8], repeats: 1, warmup: 0, threads: 1}
eval: {threads: 1, batchSize: 1}
`,
    );
    return { bench, batch, student };
  }

  it("a queued sweep's plan does not judge its points against this machine's memory (the workers' is not known): the bench shape, the eval batch and a student made from sizes that a local plan refuses are planned", async () => {
    const structure = discovered(loadModel(join(t.root, 'models', 'tiny-sst2', 'model.onnx')))!;
    memory.bytes = largestActivationBytes(structure, 1, 16);
    try {
      const { bench, batch, student } = memorySweeps('queued');
      for (const [file, line] of [
        [bench, /bench\.batch 536870912 bench\.seq 8: one activation of .* more than this machine's/],
        [batch, /eval\.batchSize 100000: a batch of 8 SST-2 dev examples .* more than this machine's/],
        [student, /student 'bert:layers=1': .* parameters would take .* more than this machine's/],
      ] as const) {
        const store = join(t.root, 'queued.sqlite');
        await expect(planSweepFile({ file, store })).rejects.toThrow(line);
        const { points } = await planSweepFile({ file, store, queued: true });
        expect(points.length).toBeGreaterThan(1);
      }
      // (compress sweep --dry-run --queue plans as the queue would; without --queue, as a local run)
      const dry = (queue: string[]) => runMain(['sweep', bench, '--store', join(t.root, 'dry.sqlite'), '--dry-run', ...queue]);
      expect((await dry(['--queue', 'redis://127.0.0.1:1'])).code).toBe(0);
      expect((await dry([])).stderr).toMatch(/bench\.batch 536870912 bench\.seq 8: one activation of .* more than this machine's/);
    } finally {
      memory.bytes = undefined;
    }
  });

  it("a queued point refuses, before it runs, what its plan left to the worker's memory, by the local plan's rules (checkPointMemory: a MemoryRefusal, as its stage words it), where it failed only at that stage, once compressed and evaluated", async () => {
    const structure = discovered(loadModel(join(t.root, 'models', 'tiny-sst2', 'model.onnx')))!;
    memory.bytes = largestActivationBytes(structure, 1, 16);
    try {
      const { bench, batch, student } = memorySweeps('point');
      const refusal = (p: Parameters<typeof checkPointMemory>[0], bytes?: number): unknown => {
        try {
          checkPointMemory(p, bytes);
        } catch (e) {
          return e;
        }
        return undefined;
      };
      const planned = async (file: string) => (await planSweepFile({ file, store: join(t.root, 'point.sqlite'), queued: true })).points;
      // every point times the model's bench shapes (its own, or as its variants' baseline)
      for (const p of await planned(bench)) {
        const e = refusal(p);
        expect(e).toBeInstanceOf(MemoryRefusal);
        expect((e as Error).message).toMatch(/^bench\.batch 536870912 bench\.seq 8: one activation of .* more than this machine's/);
        expect(refusal(p, Infinity)).toBeUndefined();
      }
      // the latencies bench.repeats runs keep: of the model, and of a variant's baseline timed beside it
      const repeats = writeSweep('point-repeats', 'batch: [1], seq: [8]', ', batchSize: 1');
      writeFileSync(repeats, readFileSync(repeats, 'utf8').replace('repeats: 1,', 'repeats: 1000000000,'));
      for (const p of await planned(repeats)) {
        const e = refusal(p);
        expect(e).toBeInstanceOf(MemoryRefusal);
        expect((e as Error).message).toMatch(/^bench\.repeats 1000000000: the latencies of that many runs could not be kept \(at most [\d,]+ with /);
        expect(refusal(p, Infinity)).toBeUndefined();
      }
      // the eval batch of the model itself: its baseline's (a variant evaluates the model its steps make)
      const evals = await planned(batch);
      for (const p of evals) {
        const e = refusal(p);
        if (p.outputDir !== null) expect(e).toBeUndefined();
        else expect((e as Error).message).toMatch(/^eval\.batchSize 100000: a batch of 8 (SST-2|STS-B) dev examples .* more than this machine's/);
      }
      expect(evals.filter((p) => p.outputDir === null).map((p) => refusal(p))).toEqual([expect.any(MemoryRefusal), expect.any(MemoryRefusal)]);
      // a student its training makes from sizes: the distill point's
      const students = await planned(student);
      expect(
        students.map((p) => [
          p.label,
          ((e) => e instanceof MemoryRefusal && /^student 'bert:layers=1': .* more than this machine's/.test(e.message))(refusal(p)),
        ]),
      ).toEqual([
        ['baseline', false],
        ['kd', true],
      ]);
    } finally {
      memory.bytes = undefined;
    }
  });
});

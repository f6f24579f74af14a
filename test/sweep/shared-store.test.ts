/**
 * Several sweep files into one store, naming one model differently (another name for the same path, or a copy of
 * the file under another name): a point they share is stored once, and each sweep's report lists it as its own,
 * under its own names, so each finds its baseline (% columns) and its teachers (the teacher-size chart).
 */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReport, teacherSizePoints, toMarkdown, type ReportData } from '../../src/report/index.ts';
import { runSweep } from '../../src/sweep/run.ts';
import { saveModel } from '../../src/onnx/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { writeTinySweep, type TinySweep } from './tiny-sweep.ts';

let t: TinySweep;
beforeAll(() => {
  t = writeTinySweep({ rows: 8 });
  cpSync(join(t.root, 'models', 'tiny-sst2'), join(t.root, 'other', 'copy-of-sst2'), { recursive: true }); // same bytes, another path
});
afterAll(() => t?.cleanup());

const COMMON = `glueDir: glue
calibration: {examples: 8}
bench: {batch: [1], seq: [8], repeats: 2, warmup: 1, threads: 1}
eval: {threads: 1}
keepModels: false
`;

function sweepFile(name: string, body: string): string {
  const file = join(t.root, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\n${COMMON}${body}`);
  return file;
}

/** Each variant's size and score relative to the baseline row of its report, computed here from the rows. */
function expectRelatedToBaseline(data: ReportData, model: string): void {
  const base = data.rows.filter((r) => r.isBaseline);
  expect(base.map((r) => r.model)).toEqual([model]);
  for (const r of data.rows) {
    expect(r.model).toBe(model);
    expect(r.bytesOfOriginal).toBeCloseTo(r.bytes / base[0]!.bytes, 12);
    expect(r.glueOfOriginal).toBeCloseTo(r.glue! / base[0]!.glue!, 12);
  }
}

describe('one store, one model named differently by several sweeps', () => {
  it("gives each sweep's report its baseline and shared points under its own names", async () => {
    const store = join(t.root, 'shared.sqlite');
    const a = sweepFile(
      'a',
      `models:
  - {path: models/tiny-sst2, tasks: [SST-2]}
pipelines:
  - baseline
  - {name: ffn, steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}
`,
    );
    // a copy of the file under another name, the same variant under another label, and a variant of its own
    const b = sweepFile(
      'b',
      `models:
  - {path: other/copy-of-sst2, name: alias, tasks: [SST-2]}
pipelines:
  - {name: ffn-half, steps: [{pass: prune-ffn, settings: {ratio: 0.5}}]}
  - {name: heads, steps: [{pass: prune-heads, settings: {ratio: 0.5, importance: magnitude}}]}
`,
    );
    // the same path under another name
    const c = sweepFile(
      'c',
      `models:
  - {path: models/tiny-sst2, name: renamed, tasks: [SST-2]}
pipelines:
  - {name: drop-1, steps: [{pass: drop-layers, settings: {layers: '1'}}]}
`,
    );
    expect(await runSweep({ file: a, store })).toMatchObject({ total: 2, ran: 2, failed: [] });
    expect(await runSweep({ file: b, store })).toMatchObject({ total: 3, alreadyDone: 2, ran: 1, failed: [] });
    expect(await runSweep({ file: c, store })).toMatchObject({ total: 2, alreadyDone: 1, ran: 1, failed: [] });

    const ra = loadReport({ store, sweep: 'a' });
    expect(ra.rows.map((r) => [r.sweep, r.label])).toEqual([
      ['a', 'baseline'],
      ['a', 'ffn'],
    ]);
    expectRelatedToBaseline(ra, 'tiny-sst2');

    const rb = loadReport({ store, sweep: 'b' });
    expect(rb.rows.map((r) => [r.sweep, r.label])).toEqual([
      ['b', 'baseline'],
      ['b', 'ffn-half'],
      ['b', 'heads'],
    ]);
    expectRelatedToBaseline(rb, 'alias');
    expect(rb.rows.every((r) => r.modelPath === join(t.root, 'other', 'copy-of-sst2', 'model.onnx'))).toBe(true);
    expect(rb.rows.find((r) => r.label === 'ffn-half')!.key).toBe(ra.rows.find((r) => r.label === 'ffn')!.key); // stored once
    // the Markdown table's size and % of original columns are filled on every row
    const md = toMarkdown(rb).split('\n');
    const header = md.find((l) => l.startsWith('| model |'))!.split(' | ');
    const lines = md.filter((l) => l.startsWith('| alias |'));
    expect(lines).toHaveLength(3);
    const [size, ofOriginal] = [header.indexOf('size'), header.indexOf('% of original')];
    expect(size).toBeGreaterThan(0);
    expect(ofOriginal).toBeGreaterThan(size);
    for (const l of lines) expect([l.split(' | ')[size], l.split(' | ')[ofOriginal]]).toEqual([expect.stringMatching(/%$/), expect.stringMatching(/%$/)]);

    const rc = loadReport({ store, sweep: 'c' });
    expect(rc.rows.map((r) => r.label)).toEqual(['baseline', 'drop-1']);
    expectRelatedToBaseline(rc, 'renamed');

    // The whole store: each point once, under the sweep that ran it.
    const all = loadReport({ store });
    expect(all.rows.map((r) => `${r.sweep} ${r.label}`).sort()).toEqual(['a baseline', 'a ffn', 'b heads', 'c drop-1']);
  });

  it('draws the teacher-size chart of a sweep whose teachers another sweep ran under other names', async () => {
    // a second SST-2 teacher of another size
    cpSync(join(t.root, 'models', 'tiny-sst2'), join(t.root, 'models', 'wide-sst2'), { recursive: true });
    saveModel(tinyBert({ numLabels: 2, intermediateSize: 96 }, { seed: 3 }), join(t.root, 'models', 'wide-sst2', 'model.onnx'));
    const store = join(t.root, 'teachers.sqlite');
    const pipelines = `pipelines:
  - {name: kd, steps: [{pass: distill, settings: {student: 'bert:layers=1,hidden=32,heads=2,intermediate=64', epochs: 1, maxExamples: 8, checkpointEvery: 0}}]}
`;
    const first = sweepFile('teachers', `models:\n  - {path: models/tiny-sst2, tasks: [SST-2]}\n  - {path: models/wide-sst2, tasks: [SST-2]}\n${pipelines}`);
    const second = sweepFile(
      'teachers-again',
      `models:\n  - {path: models/tiny-sst2, name: small, tasks: [SST-2]}\n  - {path: models/wide-sst2, name: wide, tasks: [SST-2]}\n${pipelines}`,
    );
    expect(await runSweep({ file: first, store })).toMatchObject({ total: 4, ran: 4, failed: [] });
    expect(await runSweep({ file: second, store })).toMatchObject({ total: 4, alreadyDone: 4, ran: 0 });

    const again = loadReport({ store, sweep: 'teachers-again' });
    expect(again.rows.map((r) => `${r.model} ${r.label}`)).toEqual(['small baseline', 'small kd', 'wide baseline', 'wide kd']);
    const teachers = teacherSizePoints(again)
      .filter((p) => p.kind === 'teacher')
      .map((p) => p.teacher);
    expect(teachers.sort()).toEqual(['small', 'wide']);
    expect(teacherSizePoints(loadReport({ store, sweep: 'teachers' })).filter((p) => p.kind === 'teacher')).toHaveLength(2);
  });
});

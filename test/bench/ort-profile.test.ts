/**
 * The training benchmark's --profile: a stepper opened with a profile prefix leaves onnxruntime's profile of the
 * training graph's runs when released, and readOrtProfile reads it back as each node's shortest run.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProduct, minimaByOp, minimaSum, readOrtProfile } from '../../src/bench/ort-profile.ts';
import { createStepper, DEFAULT_TRAIN_SETTINGS } from '../../src/train/trainer.ts';
import { scratchStudent, teacherShape } from '../../src/train/students/index.ts';
import { tinyBert } from '../helpers/models.ts';

const work = mkdtempSync(join(tmpdir(), 'bert-compress-ort-profile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const node = (name: string, op: string, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, dur, args: { op_name: op } });

describe('readOrtProfile', () => {
  it("keeps each node's shortest run and counts the session's runs", () => {
    const file = join(work, 'hand.json');
    const run = { cat: 'Session', name: 'model_run', dur: 900 };
    // (the fence events onnxruntime writes around each node, without a duration of their own, are not runs)
    const fence = { cat: 'Node', name: 'a_fence_before', dur: 0, args: { op_name: 'MatMul' } };
    writeFileSync(
      file,
      JSON.stringify([
        { cat: 'Session', name: 'session_initialization', dur: 5000 },
        fence,
        node('a', 'MatMul', 400),
        node('b', 'Add', 100),
        node('c', 'FusedGemm', 300),
        run,
        node('a', 'MatMul', 250),
        node('b', 'Add', 150),
        node('c', 'FusedGemm', 350),
        run,
      ]),
    );
    const p = readOrtProfile(file);
    expect(p.runs).toBe(2);
    expect([...p.nodes]).toEqual([
      ['a', { op: 'MatMul', min: 0.25, runs: 2 }],
      ['b', { op: 'Add', min: 0.1, runs: 2 }],
      ['c', { op: 'FusedGemm', min: 0.3, runs: 2 }],
    ]);
    expect(minimaSum(p)).toBeCloseTo(0.65, 12);
    expect(minimaSum(p, isProduct)).toBeCloseTo(0.55, 12);
    expect(minimaByOp(p).map(([op]) => op)).toEqual(['FusedGemm', 'MatMul', 'Add']);
  });

  it('refuses a file that is not a list of events, naming it', () => {
    const file = join(work, 'object.json');
    writeFileSync(file, '{"traceEvents": []}');
    expect(() => readOrtProfile(file)).toThrow(`${file}: not an onnxruntime profile`);
  });
});

describe('a stepper opened with a profile prefix', () => {
  it("leaves onnxruntime's profile of the training graph's runs when released", async () => {
    const teacher = tinyBert({ numLayers: 1, hiddenSize: 16, numHeads: 2, intermediateSize: 32, vocabSize: 40, maxPositions: 16 });
    const student = scratchStudent(teacherShape(teacher), 'bert:layers=1,hidden=16,heads=2,intermediate=32', 1);
    const dir = mkdtempSync(join(work, 'stepper-'));
    const stepper = await createStepper(
      { student, loss: [{ kind: 'hard-ce', weight: 1 }], settings: { ...DEFAULT_TRAIN_SETTINGS, threads: 1 } },
      undefined,
      join(dir, 'graph'),
    );
    const batch = {
      size: 2,
      seq: 4,
      inputIds: BigInt64Array.from([1n, 5n, 7n, 2n, 1n, 9n, 3n, 2n]),
      attentionMask: new BigInt64Array(8).fill(1n),
      tokenTypeIds: new BigInt64Array(8),
      labels: Float32Array.from([0, 1]),
      indices: Int32Array.from([0, 1]),
    };
    try {
      for (let step = 0; step < 3; step++) await stepper.step(batch, step, 1e-3);
    } finally {
      await stepper.release();
    }
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^graph_.*\.json$/);
    const p = readOrtProfile(join(dir, files[0]!));
    expect(p.runs).toBe(3);
    // every node of the graph onnxruntime ran, three times (the gradients' products among them)
    expect(p.nodes.size).toBeGreaterThan(50);
    for (const n of p.nodes.values()) expect(n.runs).toBe(3);
    expect(minimaSum(p, isProduct)).toBeGreaterThan(0);
    expect(minimaSum(p)).toBeGreaterThan(minimaSum(p, isProduct));
  });
});

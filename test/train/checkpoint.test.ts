import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/bert/safetensors.ts';
import { DataError } from '../../src/errors.ts';
import { checkpointPath, listCheckpoints, loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { AdamW } from '../../src/train/optimizer.ts';
import { bitIdentical, lcg } from '../helpers/feeds.ts';

const tmp = mkdtempSync(join(tmpdir(), 'bert-compress-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(tmp, `run-${dirs++}`);

function randomArray(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

/** Parameters (one with NaN, −0 and a subnormal, to check bits) and an optimizer that has taken two steps. */
function trained(step: number): Checkpoint {
  const odd = randomArray(6, 9);
  odd.set([NaN, -0, 1e-45, -Infinity]);
  const params = new Map([
    ['bert.embeddings.word_embeddings.weight', randomArray(50 * 8, 1)],
    ['bert.encoder.layer.0.attention.self.query.bias', randomArray(8, 2)],
    ['12', odd],
  ]);
  const opt = new AdamW(params, { lr: 1e-3 });
  for (let s = 0; s < 2; s++) {
    opt.step(new Map([['bert.encoder.layer.0.attention.self.query.bias', randomArray(8, 10 + s)]]));
    opt.stepSparse('bert.embeddings.word_embeddings.weight', [3, 7], randomArray(16, 20 + s), 8);
  }
  return { step, epoch: 1, params, optimizer: opt.state(), extra: { seed: 42, dataPosition: 17, note: 'ünïcode' } };
}

function expectSame(a: Checkpoint, b: Checkpoint): void {
  expect(a.step).toBe(b.step);
  expect(a.epoch).toBe(b.epoch);
  expect(a.extra).toEqual(b.extra);
  expect([...a.params.keys()]).toEqual([...b.params.keys()]);
  for (const [k, v] of b.params) expect(bitIdentical(a.params.get(k)!, v)).toBe(true);
  expect(a.optimizer.steps).toEqual(b.optimizer.steps);
  expect(a.optimizer.betas).toEqual(b.optimizer.betas);
  expect(a.optimizer.eps).toBe(b.optimizer.eps);
  expect(a.optimizer.weightDecay).toBe(b.optimizer.weightDecay);
  for (const [k, v] of b.optimizer.expAvg) expect(bitIdentical(a.optimizer.expAvg.get(k)!, v)).toBe(true);
  for (const [k, v] of b.optimizer.expAvgSq) expect(bitIdentical(a.optimizer.expAvgSq.get(k)!, v)).toBe(true);
}

describe('checkpoints', () => {
  it('round-trips parameters, optimizer state and extra JSON bit for bit', () => {
    const dir = freshDir();
    expect(loadCheckpoint(dir)).toBeUndefined();
    const c = trained(5);
    const path = saveCheckpoint(dir, c);
    expect(path).toBe(checkpointPath(dir, 5));
    const back = loadCheckpoint(dir)!;
    expectSame(back, c);
    expect(Object.keys(back.optimizer.steps).sort()).toEqual(['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.0.attention.self.query.bias']);
    // A standard safetensors file: any reader sees the tensors.
    expect([...readSafetensors(path).tensors.keys()]).toContain('param/bert.embeddings.word_embeddings.weight');
  });

  it('resumes training exactly: a loaded optimizer continues as the original', () => {
    const c = trained(2);
    const dir = freshDir();
    saveCheckpoint(dir, c);
    const back = loadCheckpoint(dir)!;
    const params = new Map([...back.params].map(([k, v]) => [k, v]));
    const resumed = new AdamW(params, { lr: 1e-3 });
    resumed.load(back.optimizer);
    const original = new AdamW(c.params, { lr: 1e-3 });
    original.load(c.optimizer);
    const g = new Map([['bert.encoder.layer.0.attention.self.query.bias', randomArray(8, 99)]]);
    original.step(g);
    resumed.step(g);
    const name = 'bert.encoder.layer.0.attention.self.query.bias';
    expect(bitIdentical(params.get(name)!, c.params.get(name)!)).toBe(true);
  });

  it('keeps the newest two by default, deleting older ones only after the new one is written', () => {
    const dir = freshDir();
    for (const step of [10, 20, 30]) saveCheckpoint(dir, trained(step));
    expect(listCheckpoints(dir).map((f) => f.step)).toEqual([30, 20]);
    saveCheckpoint(dir, trained(40), { keep: 1 });
    expect(listCheckpoints(dir).map((f) => f.step)).toEqual([40]);
    expect(loadCheckpoint(dir)!.step).toBe(40);
  });

  it('never reads a half-written file, and cleans up what a killed save left', () => {
    const dir = freshDir();
    saveCheckpoint(dir, trained(10));
    // What a kill during the next save leaves: a temporary file of another process, under a different name.
    const whole = readFileSync(checkpointPath(dir, 10));
    const partial = join(dir, `checkpoint-20.safetensors.999999.abc123.tmp`);
    writeFileSync(partial, whole.subarray(0, whole.length >> 1));
    expect(loadCheckpoint(dir)!.step).toBe(10);
    saveCheckpoint(dir, trained(20));
    expect(existsSync(partial)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint-10.safetensors', 'checkpoint-20.safetensors']);
  });

  it('removes the temporaries of a killed save when the checkpoints are read (a resume), not only at the next save', () => {
    const dir = freshDir();
    saveCheckpoint(dir, trained(10));
    const whole = readFileSync(checkpointPath(dir, 10));
    // a dead writer's (a pid no process has), and a temporary of a live process (this one) that is left alone
    const dead = join(dir, `checkpoint-20.safetensors.4194305.abc123.tmp`);
    const live = join(dir, `checkpoint-30.safetensors.${process.pid}.def456.tmp`);
    const other = join(dir, 'notes.txt.4194305.abc123.tmp');
    for (const f of [dead, live, other]) writeFileSync(f, whole.subarray(0, whole.length >> 1));
    expect(loadCheckpoint(dir)!.step).toBe(10);
    expect(readdirSync(dir).sort()).toEqual([
      'checkpoint-10.safetensors',
      'checkpoint-30.safetensors.' + process.pid + '.def456.tmp',
      'notes.txt.4194305.abc123.tmp',
    ]);
    // (killed during the first save: no checkpoint to resume from, and its temporary goes too)
    const first = freshDir();
    mkdirSync(first);
    writeFileSync(join(first, 'checkpoint-5.safetensors.4194305.abc123.tmp'), whole.subarray(0, 10));
    expect(loadCheckpoint(first)).toBeUndefined();
    expect(readdirSync(first)).toEqual([]);
  });

  it('falls back to the previous checkpoint when the newest is damaged, and refuses when none is readable', () => {
    const dir = freshDir();
    saveCheckpoint(dir, trained(10));
    saveCheckpoint(dir, trained(20));
    const newest = checkpointPath(dir, 20);
    writeFileSync(newest, readFileSync(newest).subarray(0, 100));
    const logs: string[] = [];
    expect(loadCheckpoint(dir, { log: (l) => logs.push(l) })!.step).toBe(10);
    expect(logs.join('\n')).toMatch(/checkpoint-20\.safetensors/);
    writeFileSync(checkpointPath(dir, 10), 'garbage');
    expect(() => loadCheckpoint(dir)).toThrow(DataError);
  });

  it('skips a checkpoint whose bytes were garbled in place (same length) with a log line, and falls back', () => {
    const dir = freshDir();
    saveCheckpoint(dir, trained(10));
    saveCheckpoint(dir, trained(20));
    const newest = checkpointPath(dir, 20);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 5]! ^= 0x40; // a bit of the last tensor's data
    writeFileSync(newest, bytes);
    const logs: string[] = [];
    expectSame(loadCheckpoint(dir, { log: (l) => logs.push(l) })!, trained(10));
    expect(logs.join('\n')).toMatch(/skipping unreadable checkpoint: .*checkpoint-20\.safetensors: tensor checksum mismatch/);
  });

  it('drops checkpoints of later steps when a run restarts from an earlier one', () => {
    const dir = freshDir();
    for (const step of [10, 20]) saveCheckpoint(dir, trained(step));
    saveCheckpoint(dir, trained(15));
    expect(listCheckpoints(dir).map((f) => f.step)).toEqual([15, 10]);
  });

  it('refuses bad steps and keep counts', () => {
    expect(() => saveCheckpoint(freshDir(), { ...trained(1), step: -1 })).toThrow(RangeError);
    expect(() => saveCheckpoint(freshDir(), trained(1), { keep: 0 })).toThrow(RangeError);
  });

  it('survives SIGKILL during a save: the previous checkpoint loads whole', async () => {
    const dir = freshDir();
    const child = join(tmp, 'saver.mts');
    // Saves step 1, says so, then keeps saving 32 MB checkpoints whose every value is the step number.
    writeFileSync(
      child,
      `
      import { saveCheckpoint } from ${JSON.stringify(resolve('src/train/checkpoint.ts'))};
      const state = (step) => ({ step, epoch: 0, params: new Map([['w', new Float32Array(step === 1 ? 4 : 8_000_000).fill(step)]]),
        optimizer: { format: 'adamw/1', betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, steps: {}, expAvg: new Map(), expAvgSq: new Map() } });
      saveCheckpoint(process.argv[2], state(1));
      console.log('ready');
      for (let step = 2; ; step++) saveCheckpoint(process.argv[2], state(step));
    `,
    );
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((done) => proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && done()));
    await new Promise((r) => setTimeout(r, 400));
    const exited = new Promise((r) => proc.on('exit', r));
    proc.kill('SIGKILL');
    await exited;
    const c = loadCheckpoint(dir)!;
    expect(c.step).toBeGreaterThanOrEqual(1);
    const w = c.params.get('w')!;
    expect(w.length).toBe(c.step === 1 ? 4 : 8_000_000);
    expect(w.every((v) => v === c.step)).toBe(true);
    // The next save clears the killed process's temporary file, if it left one.
    saveCheckpoint(dir, { ...c, step: c.step + 1000 });
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

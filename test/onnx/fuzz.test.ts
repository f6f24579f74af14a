/**
 * Fuzzing the loader: thousands of mutated and truncated copies of real exporter graphs. Each must either load
 * or fail with a ModelLoadError (one line); nothing may crash with another error or hang.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeModel, encodeModel } from '../../src/onnx/index.ts';
import { ModelLoadError } from '../../src/errors.ts';
import { fixture, hasFixtures } from '../helpers/paths.ts';
import { lcg } from '../helpers/feeds.ts';

type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;

const int = (r: () => number, n: number) => Math.floor(r() * n);

const mutations: Record<string, Mutation> = {
  truncate: (b, r) => b.subarray(0, int(r, b.length)),
  flipBits: (b, r) => {
    const c = new Uint8Array(b);
    for (let k = 1 + int(r, 8); k > 0; k--) c[int(r, c.length)] ^= 1 << int(r, 8);
    return c;
  },
  randomBytes: (b, r) => {
    const c = new Uint8Array(b);
    const at = int(r, c.length);
    for (let i = at; i < Math.min(c.length, at + 1 + int(r, 32)); i++) c[i] = int(r, 256);
    return c;
  },
  /** Varint-heavy damage near the start, where the graph's structure lives. */
  headDamage: (b, r) => {
    const c = new Uint8Array(b);
    for (let k = 0; k < 4; k++) c[int(r, Math.min(c.length, 2048))] = int(r, 256);
    return c;
  },
  spliceChunk: (b, r) => {
    const at = int(r, b.length);
    const len = int(r, 4096);
    const out = new Uint8Array(b.length - Math.min(len, b.length - at));
    out.set(b.subarray(0, at));
    out.set(b.subarray(at + len), at);
    return out;
  },
  pureNoise: (b, r) => Uint8Array.from({ length: 1 + int(r, 512) }, () => int(r, 256)),
};

describe.skipIf(!hasFixtures)('loader fuzz (needs ../shared/fixtures/onnx)', () => {
  const seeds = ['xlmroberta-crossencoder-tiny-torch27-op14.onnx', 'bert-toy-pretraining-ort-fused.onnx', 'distilbert-seqcls-tiny-torch110-op11.onnx'];
  const CASES_PER_SEED = 1500;

  for (const file of seeds) {
    it(`${CASES_PER_SEED} mutations of ${file}: load or ModelLoadError, never a crash`, () => {
      const bytes = new Uint8Array(readFileSync(fixture(file)));
      const r = lcg(file.length * 7919);
      const names = Object.keys(mutations);
      const outcome = { loaded: 0, refused: 0 };
      // the slowest case: one mutation whose load takes seconds is the fault (a length read as a count to loop or
      // allocate); a bound on the whole run (60 s, where one took 35 s at load 20) a loaded machine may break unfaulted
      let slowest = { ms: 0, at: '' };
      for (let i = 0; i < CASES_PER_SEED; i++) {
        const name = names[i % names.length];
        const mutated = mutations[name](bytes, r);
        const started = performance.now();
        try {
          const m = decodeModel(mutated, { label: `${file}#${i}` });
          encodeModel(m); // whatever loads must also save
          outcome.loaded++;
        } catch (e) {
          if (!(e instanceof ModelLoadError)) {
            throw new Error(`case ${i} (${name}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          }
          expect((e as Error).message).not.toContain('\n');
          outcome.refused++;
        }
        const ms = performance.now() - started;
        if (ms > slowest.ms) slowest = { ms, at: `case ${i} (${name})` };
      }
      expect(outcome.loaded + outcome.refused).toBe(CASES_PER_SEED);
      expect(outcome.refused).toBeGreaterThan(CASES_PER_SEED / 10);
      expect(slowest.ms, slowest.at).toBeLessThan(10_000);
    });
  }
});

/**
 * Pass settings declared once: every pass has a version, described settings and flags that fill them; parsing
 * applies defaults, reads numeric text the way a flag gives it, refuses unknown keys, and names the pass, the
 * setting, the value and the flag in one line. Canonical settings parse to themselves.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ALL_PASSES, registerAllPasses } from '../../src/passes.ts';
import { PASS_DECLARATIONS } from '../../src/pass-declarations.ts';
import { declarePass, fraction } from '../../src/pass/settings.ts';
import { getPass, passNames, registerPass } from '../../src/pass/registry.ts';
import { describePass } from '../../src/pass/describe.ts';
import { findBert } from '../../src/bert/discover.ts';
import { pruneHeadsPass } from '../../src/prune/index.ts';
import { tinyBert } from '../helpers/models.ts';
import { refusal } from '../helpers/refusal.ts';

/** The least each pass needs; a pass added without an entry here fails the first test. */
const MINIMAL: Record<string, Record<string, unknown>> = {
  'prune-heads': { ratio: 0.4 },
  'prune-ffn': { ratio: 0.3 },
  'drop-layers': { layers: '1' },
  'factorize-embeddings': { rank: 8 },
  'share-layers': {},
  quantize: { mode: 'int8' },
  optimize: {},
};

const byName = (name: string) => PASS_DECLARATIONS.find((d) => d.name === name)!;

describe('pass declarations', () => {
  it('every registered pass is declared once, with a version, described settings and its own flags', () => {
    expect(ALL_PASSES.map((p) => p.name)).toEqual(PASS_DECLARATIONS.map((d) => d.name));
    const flags = new Set<string>();
    for (const [i, pass] of ALL_PASSES.entries()) {
      const d = PASS_DECLARATIONS[i]!;
      expect(pass.settings).toBe(d.settings);
      expect(pass.flags).toBe(d.flags);
      expect(Number.isInteger(pass.version) && pass.version >= 1).toBe(true);
      expect(Object.keys(MINIMAL)).toContain(pass.name);
      const described = describePass(d);
      expect(described.settings.map((s) => s.name)).toEqual(Object.keys(d.settings.shape));
      for (const s of described.settings) expect(s.description.length, `${d.name}.${s.name}`).toBeGreaterThan(10);
      for (const f of described.flags) {
        expect(flags.has(f.flag), f.flag).toBe(false);
        flags.add(f.flag);
      }
      expect(described.flags.some((f) => f.addsPass)).toBe(true);
    }
  });

  // Every word or grammar value of every pass reads as --quantize reads its mode: spaces around it and letter case
  // do not matter, and the setting is recorded in its canonical (lowercase) form, the one written before, so sweep
  // keys and lineage stay as they were. [pass, setting, as written, canonical, the other settings it needs]
  const WRITTEN: Array<[string, string, unknown, unknown, Record<string, unknown>]> = [
    ['prune-heads', 'importance', ' Ablation ', 'ablation', { ratio: 0.4 }],
    ['prune-heads', 'target', 'LABELS', 'labels', { ratio: 0.4, importance: 'ablation' }],
    ['prune-heads', 'heads', ' 0:1,2;3:0 ', '0:1,2;3:0', {}],
    ['drop-layers', 'keep', 'Every-Other', 'every-other', {}],
    ['drop-layers', 'keep', ' every-other ', 'every-other', {}],
    ['factorize-embeddings', 'weighting', 'Tokens', 'tokens', { rank: 8 }],
    ['factorize-embeddings', 'weighting', ' UNIFORM ', undefined, { rank: 8 }],
    ['share-layers', 'share', 'ALL', 'all', {}],
    ['share-layers', 'share', 'Groups:2', 'groups:2', {}],
    ['share-layers', 'share', ' groups: 2 ', 'groups:2', {}],
    ['share-layers', 'from', ' Layer: 1 ', 'layer:1', {}],
    ['share-layers', 'from', 'MEAN', 'mean', {}],
    ['quantize', 'mode', ' INT8-Static ', 'int8-static', {}],
    ['quantize', 'mode', 'Int4-Block: 64', 'int4-block:64', {}],
    ['quantize', 'mode', 'MIXED:20%', 'mixed:0.2', {}],
    ['quantize', 'format', ' Standard ', 'standard', { mode: 'int8' }],
    ['quantize', 'calibration', 'Entropy: 256', 'entropy:256', { mode: 'int8-static' }],
    ['quantize', 'perChannel', ' FALSE ', false, { mode: 'int8' }],
    ['quantize', 'embeddings', 'False', false, { mode: 'int8' }],
    ['quantize', 'symmetric', 'false ', false, { mode: 'int4-block' }],
    ['quantize', 'attention', 'FALSE', false, { mode: 'int8' }],
    ['quantize', 'reduceRange', ' True', true, { mode: 'int8' }],
    ['optimize', 'rewrites', 'GELU', 'gelu', {}],
    ['optimize', 'rewrites', ' All ', 'all', {}],
    ['optimize', 'rewrites', 'Default', 'default', {}],
  ];

  it.each(WRITTEN)('%s reads %s %j as %j, whatever its letter case and the spaces around it', (pass, key, written, canonical, others) => {
    expect(byName(pass).check({ ...others, [key]: written })[key]).toEqual(canonical);
  });

  it('lists above every setting that takes words (one of several values, a grammar or true / false)', () => {
    const listed = new Set(WRITTEN.map(([pass, key]) => `${pass}.${key}`));
    for (const d of PASS_DECLARATIONS)
      for (const s of describePass(d).settings)
        if (s.type.includes('|') || s.type === 'boolean') expect(listed.has(`${d.name}.${s.name}`), `${d.name}.${s.name} (${s.type})`).toBe(true);
  });

  it("describes a setting's upper bound where it has one (prune-heads seed: its generator keeps 32 bits)", () => {
    const seed = describePass(byName('prune-heads')).settings.find((s) => s.name === 'seed');
    expect(seed?.type).toBe('integer from 0 to 4294967295');
    expect(refusal(() => byName('prune-heads').check({ ratio: 0.5, importance: 'random', seed: 2 ** 32 }))).toBe(
      'prune-heads: seed 4294967296: expected an integer from 0 to 4294967295 (flag --seed)',
    );
  });

  it('describes each default as parsing fills it in', () => {
    for (const d of PASS_DECLARATIONS) {
      const parsed = d.check(MINIMAL[d.name]!);
      for (const s of describePass(d).settings) if ('default' in s) expect(parsed[s.name], `${d.name}.${s.name}`).toEqual(s.default);
    }
  });

  it('refuses an inconsistent declaration (a bug, caught when the module loads)', () => {
    const base = { name: 'x', description: 'x', options: (s: unknown) => s };
    const settings = z.object({ ratio: fraction().describe('a ratio of something') }).strict();
    expect(() => declarePass({ ...base, version: 0, settings, flags: { adds: [], modifiers: [] } })).toThrow(/version/);
    expect(() => declarePass({ ...base, version: 1, settings, flags: { adds: [{ flag: 'x', setting: 'rate' }], modifiers: [] } })).toThrow(
      /unknown setting 'rate'/,
    );
    const undescribed = z.object({ ratio: fraction() }).strict();
    expect(() => declarePass({ ...base, version: 1, settings: undescribed, flags: { adds: [], modifiers: [] } })).toThrow(/no description/);
  });
});

describe('parsing settings', () => {
  it('applies defaults and reads numeric text, so equal pipelines parse equal', () => {
    const heads = byName('prune-heads');
    expect(heads.check({ ratio: '0.4' })).toEqual(heads.check({ ratio: 0.4, importance: 'magnitude', minHeadsPerLayer: 0 }));
    expect(heads.check({ heads: '3:1;0:2,1' })).toEqual(heads.check({ heads: { 0: [1, 2], 3: [1] } }));
    expect(byName('drop-layers').check({ layers: '3,1' })).toEqual({ layers: [1, 3] });
    expect(byName('quantize').check({ mode: 'INT4-block' })).toEqual(byName('quantize').check({ mode: 'int4-block:32' }));
    expect(byName('quantize').check({ mode: 'int8', perChannel: 'false' }).perChannel).toBe(false);
    expect(byName('share-layers').check({})).toEqual({ share: 'all', from: 'mean' });
  });

  it('reads an integer setting typed as text by its digits, as an integer flag: a fraction that reads as an integer (1e-400 as 0) is refused', () => {
    const heads = byName('prune-heads');
    expect(heads.check({ ratio: 0.4, minHeadsPerLayer: ' 1e0 ' }).minHeadsPerLayer).toBe(1);
    for (const typed of ['1e-400', '1.0000000000000001'])
      expect(refusal(() => heads.check({ ratio: 0.4, minHeadsPerLayer: typed }))).toBe(
        `prune-heads: minHeadsPerLayer ${typed}: expected an integer from 0 to 2^53 − 1 (flag --min-heads-per-layer)`,
      );
  });

  it('refuses a fraction setting typed as a number too small to hold (1e-400, which reads as 0: a ratio removing nothing), as a number flag is', () => {
    for (const pass of ['prune-heads', 'prune-ffn'])
      for (const typed of ['1e-400', ' 2e-999 '])
        expect(refusal(() => byName(pass).check({ ratio: typed }))).toBe(
          `${pass}: ratio ${typed.trim()}: too small for a number to hold (it reads as 0); write 0 for 0 (flag --${pass})`,
        );
    // (0 written any way is 0)
    expect(byName('prune-ffn').check({ ratio: '0.0e-400' }).ratio).toBe(0);
  });

  it('canonical settings parse to themselves (lineage and sweep keys can be read back)', () => {
    const examples: Array<[string, Record<string, unknown>]> = [
      ...Object.entries(MINIMAL),
      ['prune-heads', { heads: { 3: [1], 0: [2, 1] } }],
      ['prune-heads', { ratio: 0.25, importance: 'random', seed: 4, minHeadsPerLayer: 1 }],
      ['drop-layers', { keep: 'every-other' }],
      ['drop-layers', { keep: [0, 2, 4] }],
      ['share-layers', { share: 'groups:2', from: 'layer:1' }],
      ['quantize', { mode: 'int8-group:4', perChannel: 0 }],
      ['quantize', { mode: 'int8-static', calibration: 'percentile' }],
      ['quantize', { mode: 'mixed:20%' }],
    ];
    for (const [name, raw] of examples) {
      const once = byName(name).check(raw);
      expect(byName(name).check(once), `${name} ${JSON.stringify(raw)}`).toEqual(once);
      expect(JSON.parse(JSON.stringify(once))).toEqual(once);
    }
  });

  it('every pass refuses an unknown key, naming the ones it knows', () => {
    for (const d of PASS_DECLARATIONS) {
      expect(refusal(() => d.check({ ...MINIMAL[d.name], importanse: 'ablation' }))).toBe(
        `${d.name}: unknown setting 'importanse' (known: ${Object.keys(d.settings.shape).join(', ')})`,
      );
    }
  });

  it("quotes an unknown key holding a quote or a line break as a shell takes it (quotedText), where it wrote 'it's' by hand", () => {
    const heads = byName('prune-heads');
    const known = Object.keys(heads.settings.shape).join(', ');
    expect(refusal(() => heads.check({ ratio: 0.4, "it's": 1 }))).toBe(`prune-heads: unknown setting 'it'\\''s' (known: ${known})`);
    expect(refusal(() => heads.check({ ratio: 0.4, 'a\nb': 1, c: 2 }))).toBe(`prune-heads: unknown settings $'a\\nb', 'c' (known: ${known})`);
  });

  it("words an unknown pass as every value outside its choices (choiceRefusal), where it said 'unknown pass 'x' (known: …)'", () => {
    registerAllPasses();
    expect(refusal(() => getPass("prune'heads"))).toBe(`pass: expected one of ${passNames().join(', ')}, got string "prune'heads"`);
    expect(passNames()).toContain('prune-heads');
  });

  it.each([
    ['prune-heads', { ratio: 1.5 }, 'prune-heads: ratio 1.5: expected a number in [0, 1) (flag --prune-heads)'],
    ['prune-heads', { ratio: 'abc' }, "prune-heads: ratio 'abc': expected a number in [0, 1) (flag --prune-heads)"],
    ['prune-heads', { ratio: '' }, "prune-heads: ratio '': expected a number in [0, 1) (flag --prune-heads)"],
    // a flag's number text shown bare as typed, as number flags show theirs (--lr 1.5), where it was quoted ('1.5');
    // text that is no decimal number quoted
    ['prune-ffn', { ratio: '1.5' }, 'prune-ffn: ratio 1.5: expected a number in [0, 1) (flag --prune-ffn)'],
    ['prune-ffn', { ratio: ' 1e3 ' }, 'prune-ffn: ratio 1e3: expected a number in [0, 1) (flag --prune-ffn)'],
    ['prune-ffn', { ratio: '0x10' }, "prune-ffn: ratio '0x10': expected a number in [0, 1) (flag --prune-ffn)"],
    // a number too large to hold (which reads as Infinity) said to be infinite, as every number flag's refusal says it
    // (--lr 1e400: 'expected a finite number greater than 0'), where a ratio said 'expected a number in [0, 1)'
    ['prune-heads', { ratio: '1e400' }, 'prune-heads: ratio 1e400: expected a finite number in [0, 1) (flag --prune-heads)'],
    ['prune-ffn', { ratio: '-1e400' }, 'prune-ffn: ratio -1e400: expected a finite number in [0, 1) (flag --prune-ffn)'],
    [
      'prune-ffn',
      { ratio: Number.POSITIVE_INFINITY },
      'prune-ffn: ratio Infinity (infinite: .inf, or a number too large to hold): expected a finite number in [0, 1) (flag --prune-ffn)',
    ],
    ['prune-ffn', { ratio: 'NaN' }, "prune-ffn: ratio 'NaN': expected a number in [0, 1) (flag --prune-ffn)"],
    [
      'quantize',
      { mode: 'int8', mixedBlockSize: '64' },
      'quantize int8: mixedBlockSize 64: applies to mode mixed:BUDGET only (mode is int8) (flag --mixed-block-size)',
    ],
    ['prune-heads', { heads: '0-1' }, "prune-heads: heads '0-1': expected LAYER:HEAD,HEAD;LAYER:HEAD (e.g. 0:1,2;3:0) (flag --prune-heads)"],
    [
      'prune-heads',
      { ratio: 0.2, importance: 'vibes' },
      "prune-heads: importance 'vibes': expected one of ablation, gradient, confidence, magnitude, random (flag --importance)",
    ],
    [
      'prune-heads',
      { heads: '0:1', importance: 'ablation' },
      "prune-heads: importance 'ablation': ranks heads for a ratio only; here the heads are listed (flag --importance)",
    ],
    ['prune-heads', { ratio: 0.2, seed: 3 }, 'prune-heads: seed 3: only importance random uses a seed (importance is magnitude) (flag --seed)'],
    [
      'prune-heads',
      { ratio: 0.2, minHeadsPerLayer: -1 },
      'prune-heads: minHeadsPerLayer -1: expected an integer from 0 to 2^53 − 1 (flag --min-heads-per-layer)',
    ],
    ['prune-ffn', {}, 'prune-ffn: ratio: missing; expected a number in [0, 1) (flag --prune-ffn)'],
    ['drop-layers', { layers: '1,1' }, "drop-layers: layers '1,1': layer 1 is given twice (flag --drop-layers)"],
    ['drop-layers', { keep: 'abc' }, "drop-layers: keep 'abc': expected 'every-other' or layer indices such as 0,2,4 (flag --keep-layers)"],
    ['drop-layers', { keep: '0,0,1' }, "drop-layers: keep '0,0,1': layer 0 is given twice (flag --keep-layers)"],
    ['drop-layers', { keep: [3, 0] }, "drop-layers: keep [3,0]: layers stay in the model's order: list them ascending (0,3) (flag --keep-layers)"],
    ['prune-heads', { heads: '0:1,1' }, "prune-heads: heads '0:1,1': head 1 of layer 0 is given twice (flag --prune-heads)"],
    ['prune-heads', { heads: '0:1;0:2' }, "prune-heads: heads '0:1;0:2': layer 0 is listed twice: give its heads once (0:1,2) (flag --prune-heads)"],
    ['factorize-embeddings', { rank: 2.5 }, 'factorize-embeddings: rank 2.5: expected an integer from 1 to 2^53 − 1 (flag --factorize-embeddings)'],
    [
      'share-layers',
      { from: 'median' },
      "share-layers: from 'median': expected 'mean' or 'layer:K' (K: the source layer's position within each group, from 0) (flag --share-from)",
    ],
    ['quantize', { mode: 'int8', perChannel: 'maybe' }, "quantize: perChannel 'maybe': expected true or false (flag --per-tensor)"],
    ['quantize', { mode: 'int8', format: 'qoperator' }, "quantize: format 'qoperator': expected one of contrib, standard (flag --quantize-format)"],
  ])('%s %j: one line naming the pass, setting, value and flag', (name, raw, message) => {
    expect(refusal(() => byName(name).check(raw))).toBe(message);
  });

  it('says which settings measure the model on calibration data', () => {
    const needs = (name: string, raw: Record<string, unknown>) => byName(name).needsCalibration(byName(name).check(raw));
    for (const importance of ['ablation', 'gradient', 'confidence']) expect(needs('prune-heads', { ratio: 0.2, importance })).toBe(true);
    for (const importance of ['magnitude', 'random']) expect(needs('prune-heads', { ratio: 0.2, importance })).toBe(false);
    expect(needs('prune-heads', { heads: '0:1' })).toBe(false);
    expect(needs('quantize', { mode: 'int8-static' })).toBe(true);
    expect(needs('quantize', { mode: 'mixed:0.3' })).toBe(true);
    expect(needs('quantize', { mode: 'int8' })).toBe(false);
    expect(needs('prune-ffn', { ratio: 0.2 })).toBe(false);
  });
});

describe("prune-heads' seed", () => {
  it('chooses the random heads (it is used, not just keyed)', async () => {
    const model = tinyBert({ numLayers: 2 }, { std: 0.2 });
    const s = findBert(model);
    const removed = async (settings: Record<string, unknown>, seed?: number) =>
      (await pruneHeadsPass.run(model, s, pruneHeadsPass.parse({ ratio: 0.5, importance: 'random', ...settings }), seed === undefined ? {} : { seed })).report
        .details!.removed;
    const seven = await removed({ seed: 7 });
    expect(seven).toEqual(await removed({}, 7)); // the setting is the run's seed, given per step
    expect(seven).toEqual(await removed({ seed: 7 }, 1)); // and wins over the run's
    const others = await Promise.all([1, 2, 3, 4, 5].map((seed) => removed({ seed })));
    expect(others.some((o) => JSON.stringify(o) !== JSON.stringify(seven))).toBe(true);
  });
});

describe('registerPass', () => {
  it("refuses a pass name that is not one word ('', 'my pass', a line break), which it took, and keeps it out of the passes listed", () => {
    const pass = (name: string) => ({
      ...declarePass({
        name,
        description: 'a pass of the caller',
        version: 1,
        settings: z.strictObject({}),
        flags: { adds: [], modifiers: [] },
        options: () => ({}),
      }),
      async run(model: never) {
        return { model, report: { pass: name, settings: {}, summary: '' } };
      },
    });
    for (const [name, shown] of [
      ['', "''"],
      ['my pass', "'my pass'"],
      [' lead', "' lead'"],
      ['-x', "'-x'"],
    ] as const) {
      expect(() => registerPass(pass(name)), name).toThrow(
        `registerPass: name ${shown}: a pass name is one word of letters, digits, '-', '_' and '.', starting with a letter or digit (steps, sweep labels and lineage show it)`,
      );
    }
    expect(() => registerPass(pass('a\nb'))).toThrow(/^registerPass: name .*: a pass name is one word/);
    registerPass(pass('test-settings-Scale_2.v1'));
    // (a pass without settings given one: it said '(known: )')
    expect(() => getPass('test-settings-Scale_2.v1').check({ factor: 2 })).toThrow(
      "test-settings-Scale_2.v1: unknown setting 'factor' (it takes no settings: give {})",
    );
    expect(passNames()).toContain('test-settings-Scale_2.v1');
    expect(passNames().filter((n) => !/^[A-Za-z0-9][\w.-]*$/.test(n))).toEqual([]);
  });
});

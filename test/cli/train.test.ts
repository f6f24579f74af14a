/**
 * `compress train` and `compress distill` as a user runs them: exit codes, one-line refusals made before any work
 * (nothing written), the flags in --help, the JSON lineage and the human summary. The refusals, --help and the
 * runs call the CLI's `main` in this process (test/helpers/cli.ts: stdout and stderr captured; a subprocess costs
 * 3–4 s of CPU loading the sources through tsx); a few refusals and the --json run spawn bin/compress.mjs (its
 * exit code, its stdout holding the lineage and nothing else).
 */
import { execFile, execFileSync } from 'node:child_process';
import { TOKENIZER_FILES, copyModelFiles } from '../../src/eval/model-files.ts';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ctrlC } from '../../src/cli/training.ts';
import { createTrainingProgress } from '../../src/cli/training-progress.ts';
import { PassThrough } from 'node:stream';
import { GLUE_DIR, TEACHERS, hasGlue } from '../helpers/paths.ts';
import { tinyBert, writeTinyBert } from '../helpers/models.ts';
import { WORDS, writeGlueTask, writeModelFolder } from '../helpers/model-folder.ts';
import { runMain } from '../helpers/cli.ts';
import { formatMB } from '../../src/units.ts';
import { trainingVersion } from '../../src/train/versions.ts';
import { UsageError } from '../../src/errors.ts';

const BIN = resolve(__dirname, '../../bin/compress.mjs');
const TEACHER = join(TEACHERS, 'sst2-L2H256');
const haveShared = hasGlue && existsSync(join(TEACHER, 'model.onnx'));

const work = mkdtempSync(join(tmpdir(), 'bert-compress-cli-train-'));
const cache = join(work, 'cache');
/** Vocabulary 128, no tokenizer: enough for refusals made before any model is read. */
const tiny = writeTinyBert();
/** Vocabulary 30522 with the teacher's tokenizer files and SST-2 labels (when the shared teacher is there). */
const tinyWordPiece = writeTinyBert({ vocabSize: 30522 }, { seed: 3 });
if (haveShared) copyModelFiles(TEACHER, tinyWordPiece.dir, TOKENIZER_FILES);
writeFileSync(join(tinyWordPiece.dir, 'config.json'), JSON.stringify({ id2label: { 0: 'negative', 1: 'positive' }, max_length: 32 }));
/** A link to the tiny model's folder: an output reached through it is still the input's. */
const linkToTiny = join(work, 'tiny-link');
symlinkSync(tiny.dir, linkToTiny);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  tiny.cleanup();
  tinyWordPiece.cleanup();
});

async function compress(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { ...process.env, GLUE_DIR, BERT_COMPRESS_CACHE: cache },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** `main(args)` in this process (test/helpers/cli.ts), with the environment a spawned one gets. */
const inProcess = (...args: string[]) => runMain(args, { GLUE_DIR, BERT_COMPRESS_CACHE: cache });

let outputs = 0;
/** A fresh output path whose folder does not exist yet. */
const freshOutput = () => join(work, `out-${++outputs}`, 'model.onnx');

/** Runs a command that must be refused: non-zero exit, one line on stderr matching `re`, nothing written. */
async function expectRefused(args: string[], re: RegExp, output?: string, how: 'spawn' | 'in-process' = 'in-process'): Promise<{ code: number | null }> {
  const r = how === 'spawn' ? await compress(...args) : await inProcess(...args);
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(/^compress: /);
  expect(r.stderr).toMatch(re);
  expect(r.stdout).toBe('');
  if (output && args.includes(output)) {
    expect(existsSync(resolve(output, '..')), 'the output folder was created').toBe(false);
    expect(existsSync(`${output}.train`)).toBe(false);
  }
  return r;
}

/** An --intermediate file of one explicit match. */
const MATCHES_FILE = join(work, 'matches.json');
writeFileSync(MATCHES_FILE, JSON.stringify([{ teacherLayer: 1, studentLayer: 1, feature: 'hidden', loss: 'mse' }]));
const distill = (output: string, ...more: string[]) => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '--task', 'SST-2', '-o', output, ...more];

describe('compress train / distill: --help', () => {
  it('says --tokenizer takes a folder or a file in every command taking it (compress, eval, train, distill)', async () => {
    for (const command of [[], ['eval'], ['train'], ['distill']]) {
      const r = await inProcess(...command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout.replace(/\s+/g, ' '), command.join(' ') || 'compress').toMatch(
        /--tokenizer tokenizer folder or file[ :(]+tokenizer\.json, vocab\.txt, vocab\.json with merges\.txt, or an ALBERT \/ XLM-R \/ CamemBERT SentencePiece model/,
      );
    }
  });

  it('train --help lists the training flags', async () => {
    const r = await inProcess('train', '--help');
    expect(r.code).toBe(0);
    for (const flag of [
      '--task',
      '--output',
      '--epochs',
      '--batch-size',
      '--lr',
      '--weight-decay',
      '--warmup',
      '--clip',
      '--dropout',
      '--seed',
      '--max-examples',
      '--max-length',
      '--checkpoint-every',
      '--threads',
      '--glue-dir',
      '--json',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).not.toContain('--alpha');
    // --epochs 0.5 is refused: the help says what it takes
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(/--epochs passes over the training set \(a whole number\)/);
  });

  it('distill --help adds the distillation flags, with the library defaults', async () => {
    const r = await inProcess('distill', '--help');
    expect(r.code).toBe(0);
    for (const flag of [
      '--teacher',
      '--student',
      '--task',
      '--output',
      '--epochs',
      '--alpha',
      '--temperature',
      '--logit-loss',
      '--cache-dir',
      '--checkpoint-every',
      '--json',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    const { DEFAULT_DISTILL_SETTINGS } = await import('../../src/train/run.ts');
    const { DEFAULT_TRAIN_SETTINGS } = await import('../../src/train/trainer.ts');
    // Flags the library fills (so that it can refuse one given where it would be ignored) name their default in words.
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain(`(default ${DEFAULT_DISTILL_SETTINGS.alpha})`);
    expect(help).toContain(`(--logit-loss ce; default ${DEFAULT_DISTILL_SETTINGS.temperature})`);
    const { DEFAULT_PKD_WEIGHT } = await import('../../src/train/run.ts');
    expect(help).toContain(`pkd-skip / pkd-last (default ${DEFAULT_PKD_WEIGHT})`);
    expect(r.stdout).toMatch(new RegExp(`--epochs[^\\n]*\\[default: ${DEFAULT_TRAIN_SETTINGS.epochs}\\]`));
  });

  it('--help and the unknown-task error list exactly the tasks train accepts (no MNLI group, no all)', async () => {
    const help = (await inProcess('train', '--help')).stdout.replace(/\s+/g, ' ');
    const listed = /GLUE task to train on \(([^)]*)\)/.exec(help)?.[1]?.split(', ');
    const refused = await inProcess('train', tiny.dir, '--task', 'all', '-o', freshOutput());
    expect(refused.code).not.toBe(0);
    const known = /Known tasks: (.*)$/m.exec(refused.stderr)?.[1]?.split(', ');
    expect(known).toEqual(listed);
    expect(listed).not.toContain('MNLI');
    expect(listed).not.toContain('all');
    const { getTask } = await import('../../src/glue/registry.ts');
    for (const name of listed!) expect(getTask(name, 'train').name).toBe(name);
  });

  it('distill --help says the general stage needs no --task, what each stage does with a classifier, and the seed of a new one', async () => {
    const help = (await inProcess('distill', '--help')).stdout.replace(/\s+/g, ' ');
    const stage = /--stage (.*?)\[string\]/.exec(help)?.[1];
    expect(stage).toMatch(
      /a student with no classifier for the task \(a bare encoder, another width, another task's labels\) gets a new one, seeded from --seed\./,
    );
    expect(stage).toMatch(/general: intermediate KD only, on --corpus, no labels, no --task needed; a --task given only sizes the student's classifier/);
    expect(stage).toMatch(/which config\.json names with the task's labels/);
    expect(stage).toMatch(/from a teacher without a classifier it is written encoder-only \(BertModel\)/);
  });

  it("distill --help and the refusal of an unknown --student name bilstm's every size, mlp=M included (the parser takes it)", async () => {
    const help = (await inProcess('distill', '--help')).stdout.replace(/\s+/g, ' ');
    expect(/--student (.*?)\[string\]/.exec(help)?.[1]).toMatch(/bilstm:hidden=H\[,embedding=E\]\[,mlp=M\]/);
    const { parseBilstmSpec } = await import('../../src/train/students/bilstm-config.ts');
    expect(parseBilstmSpec('bilstm:hidden=8,mlp=4').mlpSize).toBe(4);
    const refused = await inProcess('distill', '--teacher', tiny.dir, '--student', 'no-such-student', '--task', 'SST-2', '-o', freshOutput());
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/bilstm:hidden=H\[,embedding=E\]\[,mlp=M\]/);
  });

  it("train --help says the tokenizer defaults to the model's folder (train has no teacher), distill --help the teacher's", async () => {
    const tokenizer = async (command: string) => /--tokenizer (.*?)\[string\]/.exec((await inProcess(command, '--help')).stdout.replace(/\s+/g, ' '))?.[1];
    expect(await tokenizer('train')).toMatch(/\(default: the model's folder\)/);
    expect(await tokenizer('train')).not.toMatch(/teacher/);
    expect(await tokenizer('distill')).toMatch(/\(default: the teacher's folder\)/);
  });

  it('distill --help and worker --help name the cache folders as the code picks them ($BERT_COMPRESS_CACHE, else $XDG_CACHE_HOME, else ~/.cache)', async () => {
    const flat = async (...args: string[]) => (await inProcess(...args)).stdout.replace(/\s+/g, ' ');
    expect(/--cache-dir (.*?)\[string\]/.exec(await flat('distill', '--help'))?.[1]).toMatch(
      /\(default \$BERT_COMPRESS_CACHE, else \$XDG_CACHE_HOME\/bert-compress, else ~\/\.cache\/bert-compress\)/,
    );
    expect(/--cache-dir (.*?)\[string\]/.exec(await flat('worker', '--help'))?.[1]).toMatch(
      /\(default \$BERT_COMPRESS_CACHE\/worker, else \$XDG_CACHE_HOME\/bert-compress\/worker, else ~\/\.cache\/bert-compress\/worker\)/,
    );
    // what the help says is what the code does
    const { userCacheDir } = await import('../../src/train/run.ts');
    const { defaultWorkerCacheDir } = await import('../../src/queue/worker.ts');
    vi.stubEnv('BERT_COMPRESS_CACHE', '');
    delete process.env.BERT_COMPRESS_CACHE;
    vi.stubEnv('XDG_CACHE_HOME', '/xdg');
    try {
      expect(userCacheDir()).toBe('/xdg/bert-compress');
      expect(defaultWorkerCacheDir()).toBe('/xdg/bert-compress/worker');
      // (a blank variable is unset, as every variable bert-compress reads: BERT_COMPRESS_CACHE= is not the working
      // folder, where the cache was written; blanks around a value are not part of it)
      expect(userCacheDir({ BERT_COMPRESS_CACHE: '', XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/bert-compress');
      expect(userCacheDir({ BERT_COMPRESS_CACHE: ' ', XDG_CACHE_HOME: ' ' })).toBe(join(homedir(), '.cache', 'bert-compress'));
      expect(userCacheDir({ BERT_COMPRESS_CACHE: ' /c ' })).toBe('/c');
      // (a `~` or `$NAME` no shell expanded, `ENV XDG_CACHE_HOME=~/.cache`: the home folder's, as the hub cache reads the
      // same variable, where a folder `~` was made in the working folder)
      expect(userCacheDir({ HOME: '/h', XDG_CACHE_HOME: '~/.cache' })).toBe('/h/.cache/bert-compress');
      expect(userCacheDir({ HOME: '/h', BERT_COMPRESS_CACHE: '~/bc' })).toBe('/h/bc');
      expect(userCacheDir({ HOME: '/h', XDG_CACHE_HOME: '$DISK/c', DISK: '/d' })).toBe('/d/c/bert-compress');
      expect(() => userCacheDir({ XDG_CACHE_HOME: '~nobody-here/c' })).toThrow(/^'~nobody-here\/c' \(XDG_CACHE_HOME\): no user 'nobody-here' is known here/);
      // (bert-compress's own variable, which huggingface_hub never reads: the refusal names no reader)
      expect(() => userCacheDir({ BERT_COMPRESS_CACHE: '~nobody-here' })).toThrow(
        new UsageError(
          "'~nobody-here' (BERT_COMPRESS_CACHE): no user 'nobody-here' is known here (/etc/passwd, getent passwd), so the home folder ~nobody-here names is unknown; write the folder's path",
        ),
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('distill --help says --feature-cache-mb bounds the whole cache, not a batch', async () => {
    const help = (await inProcess('distill', '--help')).stdout.replace(/\s+/g, ' ');
    const text = /--feature-cache-mb (.*?)\[number\]/.exec(help)?.[1];
    expect(text).toMatch(/in all/);
    expect(text).not.toMatch(/per batch/);
  });

  it('the top-level help lists both commands', async () => {
    const r = await inProcess('--help');
    expect(r.stdout).toMatch(/compress train <model>/);
    expect(r.stdout).toMatch(/compress distill/);
  });
});

describe('compress train / distill: refusals before any work, one line each', () => {
  it('train --new-head of a model of one token type on a pair task: refused in one line, no new classifier said', async () => {
    const dir = writeModelFolder(join(work, 'one-type'), tinyBert({ vocabSize: 5 + WORDS.length, typeVocabSize: 1, numLabels: 2 }));
    writeGlueTask(join(work, 'one-type-glue'), 'STS-B', 4, ['train', 'dev']);
    const output = freshOutput();
    await expectRefused(
      ['train', dir, '--task', 'STS-B', '--new-head', '--glue-dir', join(work, 'one-type-glue'), '-o', output],
      /vocab\.txt gives token type 1, but .*model\.onnx has 1 token type: the tokenizer's template is not the model's$/m,
      output,
    );
  });

  // (spawned: without the check, Node's recursive mkdir spins for ever under /proc, deaf to signals)
  it.skipIf(!haveShared || !existsSync('/proc/self'))(
    'distill --cache-dir onto a folder that takes no new files (/proc): refused in one line (needs ../shared)',
    async () => {
      const output = freshOutput();
      const args = ['distill', '--teacher', tinyWordPiece.dir, '--student', 'every-other', '--task', 'SST-2', '--max-examples', '16', '-o', output];
      await expectRefused(
        [...args, '--cache-dir', '/proc'],
        /--cache-dir \/proc: cannot write files in \/proc: the folder takes no new files/,
        output,
        'spawn',
      );
    },
  );

  it.each([
    ['missing -o', () => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '--task', 'SST-2'], /missing -o\/--output/],
    ['missing --task', (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '-o', o], /missing --task/],
    ['missing --teacher', (o: string) => ['distill', '--student', 'every-other', '--task', 'SST-2', '-o', o], /missing --teacher/],
    ['missing --student', (o: string) => ['distill', '--teacher', tiny.dir, '--task', 'SST-2', '-o', o], /missing --student/],
    ['alpha above 1', (o: string) => distill(o, '--alpha', '1.5'), /--alpha 1\.5: expected a number in \[0, 1\]$/m],
    ['alpha below 0', (o: string) => distill(o, '--alpha', '-0.1'), /--alpha -0\.1: expected a number in \[0, 1\]$/m],
    ['embedding lr not a number', (o: string) => distill(o, '--embedding-lr', 'fast'), /--embedding-lr 'fast': expected a number greater than 0 or 'scaled'$/m],
    // (a number shown bare as typed, as --lr's and --alpha's, where it was quoted: --embedding-lr '0')
    ['embedding lr 0', (o: string) => distill(o, '--embedding-lr', '0'), /--embedding-lr 0: expected a number greater than 0 or 'scaled'$/m],
    ['embedding lr -1e-3', (o: string) => distill(o, '--embedding-lr=-1e-3'), /--embedding-lr -1e-3: expected a number greater than 0 or 'scaled'$/m],
    ['embedding lr 0x10', (o: string) => distill(o, '--embedding-lr', '0x10'), /--embedding-lr '0x10': expected a number greater than 0 or 'scaled'$/m],
    [
      'temperature 0',
      (o: string) => distill(o, '--temperature', '0'),
      /--temperature 0: expected a number in \[1e-19, 1e19\] \(1\/T and T² are computed in float32\)$/m,
    ],
    ['negative temperature', (o: string) => distill(o, '--temperature', '-2'), /--temperature -2: expected a number in \[1e-19, 1e19\] /],
    // (1/T overflowed float32: a NaN loss said to take a smaller temperature; T² underflowed: no teacher term, silently)
    ...['1e-50', '1e-30', '2e19'].map((t) => [
      `temperature ${t}`,
      (o: string) => distill(o, '--temperature', t),
      new RegExp(`--temperature ${t}: expected a number in \\[1e-19, 1e19\\] `),
    ]),
    ['unknown logit loss', (o: string) => distill(o, '--logit-loss', 'kl'), /--logit-loss 'kl': expected one of ce, mse$/m],
    ['a logit loss with a space', (o: string) => distill(o, '--logit-loss', 'k l'), /--logit-loss 'k l': expected one of ce, mse$/m],
    [
      'unknown student spec',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'tiny-bert', '--task', 'SST-2', '-o', o],
      /--student 'tiny-bert': expected one of every-other, or a model path, bert:layers=L,hidden=H,heads=A,intermediate=I or bilstm:/,
    ],
    // (a usage mistake, exit 2, as README lists a --student spec's form, where a typo of every-other exited 1)
    [
      'a typo of every-other',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'ever-other', '--task', 'SST-2', '-o', o],
      /^compress: --student 'ever-other': expected one of every-other, or a model path, bert:layers=L,hidden=H,heads=A,intermediate=I or bilstm:hidden=H\[,embedding=E\]\[,mlp=M\]$/m,
    ],
    [
      'a student spec holding a space and a quote',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', "it's every other", '--task', 'SST-2', '-o', o],
      /--student 'it'\\''s every other': expected one of every-other, or a model path, /,
    ],
    [
      'missing student path',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', join(tiny.dir, 'gone', 'model.onnx'), '--task', 'SST-2', '-o', o],
      /--student \S+gone\/model\.onnx: no such file or folder/,
      1,
    ],
    [
      'bad bert: key',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'bert:depth=2', '--task', 'SST-2', '-o', o],
      /^compress: --student 'bert:depth=2': unknown setting 'depth=2' \(expected layers=N, hidden=N, heads=N, intermediate=N\)/,
    ],
    [
      'bert: key given twice',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'bert:layers=1,layers=2,hidden=32,heads=2,intermediate=64', '--task', 'SST-2', '-o', o],
      /^compress: --student 'bert:layers=1,layers=2,hidden=32,heads=2,intermediate=64': 'layers' given twice/,
    ],
    [
      'bilstm: key given twice',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'bilstm:hidden=32,hidden=64', '--task', 'SST-2', '-o', o],
      /'hidden' given twice/,
    ],
    // (a number bare, as number flags show theirs; other text quoted)
    ...[
      ['0', '0'],
      ['', "''"],
    ].map(([v, shown]) => [
      `bert: layers=${v}`,
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', `bert:layers=${v},hidden=32,heads=2,intermediate=64`, '--task', 'SST-2', '-o', o],
      new RegExp(`layers ${shown}: expected an integer from 1 to 2\\^53 − 1`),
    ]),
    [
      'bilstm without hidden',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'bilstm:embedding=64', '--task', 'SST-2', '-o', o],
      /needs hidden=H/,
    ],
    ['a task group (MNLI)', (o: string) => [...distill(o).slice(0, 5), '--task', 'MNLI', '-o', o], /task 'MNLI' names MNLI-m and MNLI-mm; give one of them/],
    ['a task without a train split (AX)', (o: string) => ['train', tiny.dir, '--task', 'AX', '-o', o], /task AX has no train split/],
    ...['--cache-dir', '--glue-dir', '--corpus', '--intermediate'].map((flag) => [
      `empty ${flag}`,
      (o: string) => distill(o, flag, ''),
      new RegExp(`${flag} '': an empty value`),
    ]),
    ['empty --glue-dir (train)', (o: string) => ['train', tiny.dir, '--task', 'SST-2', '-o', o, '--glue-dir='], /--glue-dir '': an empty value/],
    ['empty --epochs', (o: string) => distill(o, '--epochs', ''), /--epochs '': expected an integer from 1 to 2\^53 − 1/],
    ['blank --batch-size', (o: string) => distill(o, '--batch-size= '), /--batch-size ' ': expected an integer from 1 to 2\^53 − 1/],
    ['negative --feature-cache-mb', (o: string) => distill(o, '--feature-cache-mb', '-5'), /--feature-cache-mb -5: expected a number 0 or greater$/m],
    // (megabytes past float64's bytes taken as no limit, the run going on to its teacher, where it was refused naming the
    // library's option: 'featureCacheBytes Infinity: expected a finite number 0 or greater')
    [
      '--feature-cache-mb 1e303 (its bytes past float64)',
      (o: string) => [
        'distill',
        '--teacher',
        join(work, 'no-such-teacher'),
        '--student',
        'every-other',
        '--task',
        'SST-2',
        '-o',
        o,
        '--feature-cache-mb',
        '1e303',
        '--intermediate',
        'tinybert',
      ],
      /^compress: \S+no-such-teacher: no such file or folder$/m,
      1,
    ],
    ['--layer-map without --intermediate', (o: string) => distill(o, '--layer-map', '1:1'), /--layer-map applies with --intermediate/],
    // (a cache of the teacher's intermediate features, which prediction-layer KD never computes: it was taken and never
    // read, the run going on as without it)
    [
      '--feature-cache-mb without --intermediate',
      (o: string) => distill(o, '--feature-cache-mb', '64'),
      /^compress: --feature-cache-mb applies with --intermediate \(it caches the teacher's intermediate-layer features\)$/m,
    ],
    [
      '--layer-map with a match list',
      (o: string) => distill(o, '--intermediate', MATCHES_FILE, '--layer-map', '1:1'),
      /--layer-map applies to an --intermediate preset/,
    ],
    [
      '--intermediate a folder',
      (o: string) => distill(o, '--intermediate', work),
      /--intermediate '\S+-cli-train-\S+': expected one of tinybert, pkd-skip, pkd-last, or a JSON or YAML file of matches \(a folder\)$/m,
      1,
    ],
    ['empty --layer-map', (o: string) => distill(o, '--intermediate', 'tinybert', '--layer-map='), /--layer-map '': an empty value/],
    // (usage mistakes, exit 2, as every training setting's bad value, where they exited 1)
    [
      '--layer-map of no layer map form',
      (o: string) => distill(o, '--intermediate', 'tinybert', '--layer-map', 'sideways'),
      /^compress: --layer-map 'sideways': expected one of uniform, skip, last, or teacher:student pairs like 3:1,6:2$/m,
    ],
    [
      '--layer-map with a layer that is no integer',
      (o: string) => distill(o, '--intermediate', 'tinybert', '--layer-map', '1:x'),
      /^compress: --layer-map '1:x': the student layer 'x': expected an integer from 0 to 2\^53 − 1$/m,
    ],
    [
      '--layer-map with a pair twice',
      (o: string) => distill(o, '--intermediate', 'tinybert', '--layer-map', '1:1,1:1'),
      /^compress: --layer-map '1:1,1:1': the pair 1:1 is listed twice \(its terms would count twice\)$/m,
    ],
    [
      '--intermediate-phase without --intermediate',
      (o: string) => distill(o, '--intermediate-phase', 'joint'),
      /--intermediate-phase applies with --intermediate/,
    ],
    [
      '--intermediate-phase with --stage general',
      (o: string) => distill(o, '--stage', 'general', '--intermediate', 'tinybert', '--intermediate-phase', 'first'),
      /--intermediate-phase applies to --stage task/,
    ],
    [
      '--intermediate-epochs without --intermediate',
      (o: string) => distill(o, '--intermediate-epochs', '2'),
      /--intermediate-epochs applies with --intermediate/,
    ],
    [
      '--intermediate-epochs with a joint phase',
      (o: string) => distill(o, '--intermediate', 'pkd-skip', '--intermediate-epochs', '2'),
      /--intermediate-epochs with --intermediate-phase joint/,
    ],
    ['--corpus without --stage general', (o: string) => distill(o, '--corpus', MATCHES_FILE), /--corpus applies to --stage general/],
    ['--pkd-weight without --intermediate', (o: string) => distill(o, '--pkd-weight', '50'), /--pkd-weight applies with --intermediate pkd-skip or pkd-last/],
    [
      '--pkd-weight with the tinybert preset',
      (o: string) => distill(o, '--intermediate', 'tinybert', '--pkd-weight', '50'),
      /--pkd-weight applies with --intermediate pkd-skip or pkd-last/,
    ],
    [
      '--pkd-weight with a match list',
      (o: string) => distill(o, '--intermediate', MATCHES_FILE, '--pkd-weight', '50'),
      /--pkd-weight applies to the pkd-skip and pkd-last presets; a list of matches gives each its weight/,
    ],
    [
      'negative --pkd-weight',
      (o: string) => distill(o, '--intermediate', 'pkd-skip', '--pkd-weight', '-1'),
      /--pkd-weight -1: expected a number 0 or greater$/m,
    ],
    ...['--alpha', '--temperature'].map((flag) => [
      `${flag} with --stage general`,
      (o: string) => distill(o, '--stage', 'general', '--intermediate', 'tinybert', flag, '0.5'),
      new RegExp(`${flag} applies to --stage task \\(the general stage distils intermediate layers only\\)`),
    ]),
    [
      '--temperature with --logit-loss mse',
      (o: string) => distill(o, '--logit-loss', 'mse', '--temperature', '5'),
      /--temperature applies to --logit-loss ce \(soft cross-entropy\); --logit-loss mse compares raw logits/,
    ],
    ...['--temperature', '--logit-loss'].map((flag) => [
      `${flag} with --alpha 1`,
      (o: string) => distill(o, '--alpha', '1', flag, flag === '--temperature' ? '5' : 'mse'),
      new RegExp(
        `${flag} applies to the teacher's term of the loss, and --alpha 1 gives it no weight \\(the labels alone\\); leave out ${flag}, or give --alpha below 1`,
      ),
    ]),
    [
      '--temperature on a regression task',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '--task', 'STS-B', '-o', o, '--temperature', '5'],
      /--temperature applies to classification: STS-B is a regression task/,
    ],
    [
      '--logit-loss ce on a regression task',
      (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '--task', 'STS-B', '-o', o, '--logit-loss', 'ce'],
      /--logit-loss ce applies to classification: STS-B is a regression task, its teacher's score distilled by MSE/,
    ],
    [
      '--logit-loss with --stage general',
      (o: string) => distill(o, '--stage', 'general', '--intermediate', 'tinybert', '--logit-loss', 'mse'),
      /--logit-loss applies to --stage task/,
    ],
    [
      '--augment with --stage general',
      (o: string) => distill(o, '--stage', 'general', '--intermediate', 'tinybert', '--augment', '1'),
      /--augment applies to --stage task/,
    ],
    ...['config.json', 'tokenizer.json', 'vocab.txt', 'config'].map((name) => [
      `-o named like a file written beside it (${name})`,
      (o: string) => distill(join(o, '..', name)),
      new RegExp(
        `-o .*/${name.replace('.', '\\.')}: ${name === 'config' ? 'its lineage file' : 'the output'} would be named ${name === 'config' ? 'config\\.json' : name.replace('.', '\\.')}, a side file`,
      ),
    ]),
    ['unknown task', (o: string) => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '--task', 'sst3', '-o', o], /unknown task 'sst3'/],
    ['zero epochs', (o: string) => distill(o, '--epochs', '0'), /--epochs 0: expected an integer from 1 to 2\^53 − 1/],
    ['fractional batch size', (o: string) => distill(o, '--batch-size', '2.5'), /--batch-size 2\.5: expected an integer from 1 to 2\^53 − 1/],
    ['warmup above 1', (o: string) => distill(o, '--warmup', '2'), /--warmup 2: expected a number in \[0, 1\]$/m],
    ['dropout 1', (o: string) => distill(o, '--dropout', '1'), /--dropout 1: expected a number in \[0, 1\)$/m],
    ['negative threads', (o: string) => distill(o, '--threads', '-1'), /--threads -1: expected an integer from 0 to 256/],
    [
      '--max-length 1 (as a sweep refuses maxLength 1)',
      (o: string) => distill(o, '--max-length', '1'),
      /--max-length 1: expected an integer from 2 to 2\^53 − 1$/m,
    ],
    ['zero max-examples', (o: string) => distill(o, '--max-examples', '0'), /--max-examples 0: expected an integer from 1 to 2\^53 − 1/],
    // a whole number past 2^53 − 1 written as 1e16: refused naming the range it is outside, not 'an integer ≥ 0', which it is
    ...['--seed', '--epochs', '--max-examples', '--checkpoint-every', '--augment', '--intermediate-epochs'].map((flag) => [
      `${flag} 1e16`,
      (o: string) => distill(o, flag, '1e16', ...(flag === '--intermediate-epochs' ? ['--intermediate', 'tinybert'] : [])),
      new RegExp(`^compress: ${flag} 1e16: expected an integer from [01] to 2\\^53 − 1$`, 'm'),
    ]),
    ['train on a spec', (o: string) => ['train', 'every-other', '--task', 'SST-2', '-o', o], /every-other: no such model/, 1],
    ['-o is the input model', () => ['train', tiny.path, '--task', 'SST-2', '-o', tiny.path], /refusing to overwrite the input model/],
    [
      '-o beside the input model',
      () => ['train', tiny.dir, '--task', 'SST-2', '-o', join(tiny.dir, 'trained.onnx')],
      /the folder of the input model .* would get the output's config\.json/,
    ],
    [
      '-o is the input model through a linked folder',
      () => ['train', tiny.path, '--task', 'SST-2', '-o', join(linkToTiny, 'model.onnx')],
      /refusing to overwrite the input model/,
    ],
    [
      '-o beside the input model through a linked folder',
      () => ['distill', '--teacher', tiny.dir, '--student', 'every-other', '--task', 'SST-2', '-o', join(linkToTiny, 'student.onnx')],
      /the folder of the input model .* would get the output's config\.json/,
    ],
    [
      '-o without .onnx (a folder meant, or the extension forgotten)',
      (o: string) => ['train', tiny.dir, '--task', 'SST-2', '-o', o.replace(/\.onnx$/, '')],
      /-o .*\/model: give a file name ending in \.onnx \(e\.g\. .*\/model\.onnx\)$/m,
    ],
    [
      '-o a folder that does not exist yet (a trailing slash)',
      (o: string) => distill(`${o.replace(/\.onnx$/, '')}/`),
      /-o .*\/model\/: give a file name ending in \.onnx \(e\.g\. .*\/model\/model\.onnx\)$/m,
    ],
    ['bare --seed (a pass flag elsewhere, an integer here)', (o: string) => [...distill(o), '--seed'], /--seed: an integer is needed after it/],
    ['unknown flag', (o: string) => [...distill(o), '--alpah', '0.3'], /unknown flag --alpah \(did you mean --alpha\?\) \(see --help\)/],
  ] as Array<[string, (o: string) => string[], RegExp, number?]>)('%s', async (_name, args, re, code = 2) => {
    // (exit 2: a usage mistake; 1 where what the run reads is at fault: a model path or an --intermediate file not there)
    const output = freshOutput();
    expect((await expectRefused(args(output), re, output)).code).toBe(code);
  });

  it('-o onto a pipe, or a side file (config.json) that is a pipe: refused, the pipe left as it was', async () => {
    const dir = join(work, 'fifo');
    mkdirSync(dir);
    const pipe = join(dir, 'model.onnx');
    execFileSync('mkfifo', [pipe, join(dir, 'config.json')]);
    for (const output of [pipe, join(dir, 'other.onnx')]) {
      const side = output === pipe ? pipe : join(dir, 'config.json');
      const r = await inProcess(...distill(output));
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr.trim()).toBe(`compress: -o ${output}: ${side} is not a regular file (a device, pipe or socket); give a file name`);
      expect(statSync(side).isFIFO()).toBe(true);
      expect(existsSync(`${output}.json`) || existsSync(`${output}.train`)).toBe(false);
    }
  });

  it.each([
    ['config.json', /already holds another model's config\.json; write into an empty folder or pass --force$/],
    ['vocab.txt', /already holds another model's vocab\.txt; write into an empty folder or pass --force$/],
  ])("-o into a folder holding another model's %s: refused before any work, the file left as it was", async (name, re) => {
    const dir = join(work, `foreign-${name}`);
    mkdirSync(dir);
    const foreign = name === 'config.json' ? JSON.stringify({ model_type: 'bert', id2label: { 0: 'a', 1: 'b', 2: 'c' } }) : '[PAD]\nother\n';
    writeFileSync(join(dir, name), foreign);
    const output = join(dir, 'student.onnx');
    for (const args of [distill(output), ['train', tiny.dir, '--task', 'SST-2', '-o', output]]) {
      const r = await inProcess(...args);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr.trim()).toMatch(new RegExp(`^compress: -o ${output}: ${dir} ${re.source}`));
      expect(readFileSync(join(dir, name), 'utf8')).toBe(foreign);
      expect(existsSync(output) || existsSync(`${output}.json`) || existsSync(`${output}.train`)).toBe(false);
    }
  });

  it('spawned: the same refusals from bin/compress.mjs, exit 1 (2 for a flag value out of its range, a usage mistake)', async () => {
    const output = freshOutput();
    const r = await expectRefused(distill(output, '--alpha', '2'), /--alpha 2: expected a number in \[0, 1\]$/m, output, 'spawn');
    expect(r.code).toBe(2);
    await expectRefused(['train', tiny.dir, '--task', 'SST-2'], /missing -o\/--output/, undefined, 'spawn');
  });

  it.skipIf(!haveShared)(
    'shared teacher: vocabulary mismatch, no head for the task, labels that do not match (needs ../shared/glue and ../shared/teachers/sst2-L2H256)',
    async () => {
      const cases: Array<[string[], RegExp]> = [
        [['distill', '--teacher', TEACHER, '--student', tiny.dir, '--task', 'SST-2'], /student vocabulary \(128\) differs from the teacher's \(30522\)/],
        [['distill', '--teacher', TEACHER, '--student', 'every-other', '--task', 'STS-B'], /STS-B needs 1 output; the teacher has 2/],
        [['distill', '--teacher', TEACHER, '--student', 'bert:layers=1', '--task', 'MNLI-m'], /MNLI-m needs 3 outputs; the teacher has 2/],
        [
          ['distill', '--teacher', TEACHER, '--student', 'every-other', '--task', 'MRPC'],
          /--teacher .*sst2-L2H256: its labels \(.*sst2-L2H256\/config\.json: negative, positive\) are SST-2's, not MRPC's: distil MRPC from a teacher fine-tuned on it$/m,
        ],
        [
          ['train', tinyWordPiece.dir, '--task', 'STS-B'],
          /STS-B needs 1 output; the model has 2: give --new-head to replace its classifier by a new one of 1 output$/m,
        ],
        // the teacher's logits and the student run at the length: past a position table, one line up front
        [
          ['distill', '--teacher', TEACHER, '--student', 'every-other', '--task', 'SST-2', '--max-length', '600'],
          /sst2-L2H256\/model\.onnx: --max-length 600 is beyond the model's position table \(512 tokens at most\)$/m,
        ],
        [['train', TEACHER, '--task', 'SST-2', '--max-length', '513'], /--max-length 513 is beyond the model's position table \(512 tokens at most\)$/m],
        [
          ['distill', '--teacher', TEACHER, '--student', swappedVocabulary('vocab.txt'), '--task', 'SST-2'],
          /student vocabulary \(.*vocab\.txt\) differs from the teacher.s \(.*tokenizer\.json\): token '(the|of)': id 199[67] against 199[67]; distillation needs the same tokenizer$/m,
        ],
        [
          ['distill', '--teacher', TEACHER, '--student', swappedVocabulary('tokenizer.json'), '--task', 'SST-2'],
          /student vocabulary \(.*tokenizer\.json\) differs from the teacher.s \(.*tokenizer\.json\): token '(the|of)': id 199[67] against 199[67]; distillation needs the same tokenizer$/m,
        ],
      ];
      const refusalCache = join(work, 'refusal-cache');
      for (const [args, re] of cases) {
        const output = freshOutput();
        await expectRefused([...args, '-o', output, ...(args[0] === 'distill' ? ['--cache-dir', refusalCache] : [])], re, output);
      }
      expect(existsSync(refusalCache), 'teacher logits were computed').toBe(false);
    },
  );
});

/**
 * A copy of the tiny WordPiece student whose tokenizer has the same size as the teacher's but ids 1996 and 1997
 * swapped: in vocab.txt alone (`which` = 'vocab.txt'), or in tokenizer.json (then the only tokenizer file).
 */
function swappedVocabulary(which: 'vocab.txt' | 'tokenizer.json'): string {
  const dir = join(work, `swapped-${which}`);
  mkdirSync(dir, { recursive: true });
  copyModelFiles(tinyWordPiece.dir, dir, ['model.onnx', 'config.json']);
  if (which === 'vocab.txt') {
    const lines = readFileSync(join(TEACHER, 'vocab.txt'), 'utf8').split('\n');
    [lines[1996], lines[1997]] = [lines[1997]!, lines[1996]!];
    writeFileSync(join(dir, 'vocab.txt'), lines.join('\n'));
  } else {
    const json = JSON.parse(readFileSync(join(TEACHER, 'tokenizer.json'), 'utf8'));
    const vocab = json.model.vocab as Record<string, number>;
    const [a, b] = Object.keys(vocab).filter((k) => vocab[k] === 1996 || vocab[k] === 1997);
    [vocab[a!], vocab[b!]] = [vocab[b!]!, vocab[a!]!];
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  }
  return dir;
}

describe.skipIf(!haveShared)('compress train / distill runs (needs ../shared/glue and ../shared/teachers/sst2-L2H256)', () => {
  const small = ['--max-examples', '32', '--max-length', '32', '--epochs', '2', '--batch-size', '16', '--threads', '1'];

  it('distill --json prints the lineage record and only that on stdout', async () => {
    const output = freshOutput();
    const r = await compress(
      'distill',
      '--teacher',
      TEACHER,
      '--student',
      'bert:layers=1,hidden=32,heads=2,intermediate=64',
      '--task',
      'sst2',
      '-o',
      output,
      '--alpha',
      '0.25',
      '--cache-dir',
      cache,
      '--json',
      ...small,
    );
    expect(r.code, r.stderr).toBe(0);
    const lineage = JSON.parse(r.stdout);
    expect(lineage).toMatchObject({
      kind: 'distill',
      version: trainingVersion('distill'),
      task: 'SST-2',
      steps: 4,
      distill: { alpha: 0.25, temperature: 2, logitLoss: 'ce' },
      output: { path: output },
    });
    expect(lineage.epochs).toHaveLength(2);
    expect(lineage.settings).toMatchObject({ epochs: 2, batchSize: 16, threads: 1 });
    expect(JSON.parse(readFileSync(`${output}.json`, 'utf8'))).toEqual(lineage);
    expect(r.stderr).toMatch(/epoch 2: loss/);
  });

  it('a TinyBERT task stage (intermediate, then prediction KD) counts the steps of both phases, in the summary and the lineage', async () => {
    const output = freshOutput();
    const student = 'bert:layers=1,hidden=32,heads=2,intermediate=64';
    const r = await inProcess(
      'distill',
      '--teacher',
      TEACHER,
      '--student',
      student,
      '--task',
      'SST-2',
      '-o',
      output,
      ...small,
      ...['--intermediate', 'tinybert', '--intermediate-epochs', '1', '--cache-dir', cache],
    );
    expect(r.code, r.stderr).toBe(0);
    const lineage = JSON.parse(readFileSync(`${output}.json`, 'utf8'));
    // 32 examples in batches of 16: 2 steps an epoch; the intermediate phase runs 1 epoch, the prediction phase 2
    const stepsPerEpoch = Math.ceil(32 / 16);
    expect(lineage.phases.map((p: { steps: number; examplesSeen: number }) => [p.steps, p.examplesSeen])).toEqual([
      [stepsPerEpoch * 1, 32 * 1],
      [stepsPerEpoch * 2, 32 * 2],
    ]);
    expect(lineage.steps).toBe(stepsPerEpoch * 3);
    expect(lineage.examplesSeen).toBe(32 * 3);
    expect(r.stdout).toContain(`32 examples × (1 + 2) epochs = ${stepsPerEpoch * 3} steps (${stepsPerEpoch} intermediate + ${stepsPerEpoch * 2} prediction), `);
  });

  it("general distillation runs without --task (task-agnostic): no task in the lineage, the teacher's classifier width kept", async () => {
    const output = freshOutput();
    const corpus = join(work, 'general-corpus.txt');
    writeFileSync(corpus, 'a gripping, well acted film\nthe plot goes nowhere\n'.repeat(16));
    const student = 'bert:layers=1,hidden=32,heads=2,intermediate=64';
    const args = ['--teacher', TEACHER, '--student', student, '--stage', 'general', '--intermediate', 'tinybert', '--corpus', corpus];
    // --intermediate-epochs 1 beside --epochs 2: the general stage's one phase runs the former
    const r = await inProcess('distill', ...args, '-o', output, ...small, '--intermediate-epochs', '1');
    expect(r.code, r.stderr).toBe(0);
    const lineage = JSON.parse(readFileSync(`${output}.json`, 'utf8'));
    expect(lineage).not.toHaveProperty('task');
    // the settings as used: no prediction-layer loss ran, so none of its settings is recorded
    expect(lineage.distill).toMatchObject({ stage: 'general', intermediate: 'tinybert', corpus });
    for (const key of ['alpha', 'temperature', 'logitLoss']) expect(lineage.distill).not.toHaveProperty(key);
    expect(lineage.data).toMatchObject({ file: corpus, examples: 32 });
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`distill general distillation: BERT 1×32 (2 heads, FFN 64) from scratch from ${TEACHER}`);
    // the epochs that ran, and the epoch kept said to be the last as nothing was evaluated
    expect(lines[1]).toMatch(new RegExp(`^32 examples × 1 epoch = ${Math.ceil(32 / 16)} steps, \\d+ ex/s$`));
    expect(lineage.epochs).toHaveLength(1);
    expect(lines.at(-2)).toBe('kept the last epoch (1): no dev evaluation');
    const { findBert } = await import('../../src/bert/discover.ts');
    const { loadModel } = await import('../../src/onnx/load.ts');
    const head = (path: string) => findBert(loadModel(path)).head;
    const teacherHead = head(join(TEACHER, 'model.onnx'));
    expect(teacherHead?.kind).toBe('sequence-classification');
    expect(head(output)).toMatchObject({ kind: 'sequence-classification', numLabels: (teacherHead as { numLabels: number }).numLabels });
    // the task stage still needs one
    await expectRefused(['distill', ...args.slice(0, 4), '-o', freshOutput()], /missing --task: the GLUE task to train on/);
  });

  it('an augmented run says how many of its examples were added by --augment, in the summary and the lineage', async () => {
    const output = freshOutput();
    const student = 'bert:layers=1,hidden=32,heads=2,intermediate=64';
    const r = await inProcess(
      'distill',
      '--teacher',
      TEACHER,
      '--student',
      student,
      '--task',
      'SST-2',
      '-o',
      output,
      ...small,
      '--augment',
      '2',
      '--alpha',
      '0',
    );
    expect(r.code, r.stderr).toBe(0);
    const lineage = JSON.parse(readFileSync(`${output}.json`, 'utf8'));
    // the 32 examples of the file, and what augmentation added (up to 2 variants each)
    const added = lineage.data.examples - 32;
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThanOrEqual(64);
    expect(lineage.data.augmented).toBe(added);
    expect(r.stdout.split('\n')[1]).toMatch(
      new RegExp(`^${32 + added} examples \\(32 \\+ ${added} augmented\\) × 2 epochs = ${2 * Math.ceil((32 + added) / 16)} steps, `),
    );
  });

  it('a temperature whose loss would overflow before any update is refused before any work, and leaves no folder', async () => {
    const output = join(work, 'overflow', 'new', 'model.onnx');
    const r = await inProcess(
      'distill',
      '--teacher',
      TEACHER,
      '--student',
      'every-other',
      '--task',
      'SST-2',
      '-o',
      output,
      '--temperature',
      '1e308',
      '--cache-dir',
      cache,
      ...small,
    );
    // (before the temperature's range was checked, this run failed after the teacher's pass: "the loss is Infinity
    // before any update")
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['compress: --temperature 1e308: expected a number in [1e-19, 1e19] (1/T and T² are computed in float32)']);
    expect(existsSync(join(work, 'overflow'))).toBe(false); // nor OUT.train/
  });

  it('train prints the epochs with the dev metric, the best epoch, the output and its size', async () => {
    const output = freshOutput();
    const r = await inProcess('train', tinyWordPiece.dir, '--task', 'SST-2', '-o', output, ...small);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^train SST-2: canonical rebuild of /);
    expect(r.stdout).toMatch(/epoch +train loss +dev acc +seconds/);
    expect(r.stdout).toMatch(/\n +1 +\d+\.\d{4} +\d+\.\d\d /);
    expect(r.stdout).toMatch(/\n +2 +\d+\.\d{4} +\d+\.\d\d /);
    expect(r.stdout).toMatch(/best epoch: [12] \(dev SST-2 \d+\.\d\d\)/);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^wrote ${output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(${formatMB(statSync(output).size).replace('.', '\\.')}, [\\d,]+ parameters\\) and .*model\\.onnx\\.json \\(and beside them: config\\.json of this model; from .*: tokenizer\\.json, tokenizer_config\\.json, special_tokens_map\\.json, vocab\\.txt\\)$`,
      ),
    );
    expect(existsSync(`${output}.train`)).toBe(false);
  });

  it("rerun into its own output is written over; another model's config.json and tokenizer files are refused, or replaced with --force", async () => {
    const output = freshOutput();
    // (small's settings with one epoch: a flag given twice is refused)
    const oneEpoch = small.map((a, i) => (small[i - 1] === '--epochs' ? '1' : a));
    for (let run = 1; run <= 2; run++) {
      const r = await inProcess('train', tinyWordPiece.dir, '--task', 'SST-2', '-o', output, ...oneEpoch);
      expect(r.code, `run ${run}: ${r.stderr}`).toBe(0);
    }
    const dir = resolve(output, '..');
    const second = join(dir, 'second.onnx');
    const ownConfig = readFileSync(join(dir, 'config.json'), 'utf8');
    await expectRefused(['train', tinyWordPiece.dir, '--task', 'SST-2', '-o', second, ...small], /already holds another model's config\.json/);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(ownConfig);
    // --force: this model's config.json, and only its tokenizer's files (another model's vocab.txt is removed)
    const tokenizerOnly = join(work, 'tokenizer-json-only');
    mkdirSync(tokenizerOnly, { recursive: true });
    copyModelFiles(tinyWordPiece.dir, tokenizerOnly, ['tokenizer.json', 'tokenizer_config.json']);
    const foreign = join(work, 'forced');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'config.json'), JSON.stringify({ model_type: 'bert', id2label: { 0: 'a', 1: 'b', 2: 'c' } }));
    writeFileSync(join(foreign, 'vocab.txt'), '[PAD]\nother\n');
    const forced = join(foreign, 'model.onnx');
    const r = await inProcess('train', tinyWordPiece.dir, '--task', 'SST-2', '--tokenizer', tokenizerOnly, '-o', forced, ...oneEpoch, '--force');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(foreign, 'config.json'), 'utf8')).id2label).toEqual({ 0: 'negative', 1: 'positive' });
    expect(existsSync(join(foreign, 'vocab.txt'))).toBe(false);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(
      /\(and beside them: config\.json of this model; from .*tokenizer-json-only: tokenizer\.json, tokenizer_config\.json\)$/,
    );
    expect(JSON.parse(readFileSync(`${forced}.json`, 'utf8')).sideFiles).toEqual({
      folder: foreign,
      config: 'config.json',
      tokenizer: { from: tokenizerOnly, files: ['tokenizer.json', 'tokenizer_config.json'] },
    });
  });

  it('a model file alone in its folder: refused without a tokenizer, trained with --tokenizer, whose files go beside the output', async () => {
    const bare = join(work, 'bare');
    mkdirSync(bare, { recursive: true });
    writeFileSync(join(bare, 'model.onnx'), readFileSync(tinyWordPiece.path));
    const refused = await inProcess('train', join(bare, 'model.onnx'), '--task', 'SST-2', '-o', freshOutput(), ...small);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /no tokenizer\.json, vocab\.txt, vocab\.json with merges\.txt or SentencePiece model \(give the tokenizer folder with --tokenizer\)/,
    );
    const output = freshOutput();
    const r = await inProcess('train', join(bare, 'model.onnx'), '--task', 'SST-2', '--tokenizer', tinyWordPiece.dir, '-o', output, ...small);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(output, '..', 'vocab.txt'), 'utf8')).toBe(readFileSync(join(tinyWordPiece.dir, 'vocab.txt'), 'utf8'));
  });
});

describe("TinyBERT's two stages from a teacher without a classifier (a tiny vocabulary and GLUE-like folder)", () => {
  const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words];
  const sentence = (i: number) => Array.from({ length: 3 + (i % 3) }, (_, k) => words[(i * 7 + k * 11) % words.length]).join(' ');
  const glue = join(work, 'tiny-glue');
  const mnli = ['entailment', 'neutral', 'contradiction'];
  const rows = (n: number) => [
    'index\tsentence1\tsentence2\tgold_label',
    ...Array.from({ length: n }, (_, i) => `${i}\t${sentence(i)}\t${sentence(i + 3)}\t${mnli[i % 3]}`),
  ];
  mkdirSync(join(glue, 'MNLI'), { recursive: true });
  writeFileSync(join(glue, 'MNLI', 'train.tsv'), rows(16).join('\n') + '\n');
  writeFileSync(join(glue, 'MNLI', 'dev_matched.tsv'), rows(6).join('\n') + '\n');
  const corpus = join(work, 'tiny-corpus.txt');
  writeFileSync(corpus, Array.from({ length: 16 }, (_, i) => sentence(i)).join('\n') + '\n');
  /** A tiny BERT folder with the word vocabulary; `bare`: its head cut off (an exported BertModel: hidden states, pooled vector). */
  const teacher = async (name: string, numLabels: number, bare: boolean, config: Record<string, unknown>) => {
    const { tinyBert } = await import('../helpers/models.ts');
    const { findBert } = await import('../../src/bert/discover.ts');
    const { removeDeadNodes } = await import('../../src/onnx/analysis.ts');
    const { saveModel } = await import('../../src/onnx/save.ts');
    const m = tinyBert({ vocabSize: vocab.length, numLabels }, { seed: 21 });
    if (bare) {
      const s = findBert(m);
      m.graph.outputs = [
        { name: s.layers.at(-1)!.output, elemType: 1 },
        { name: m.graph.nodes.find((n) => n.opType === 'Tanh')!.outputs[0]!, elemType: 1 },
      ];
      removeDeadNodes(m.graph);
    }
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    saveModel(m, join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ max_length: 16, ...config }));
    return dir;
  };
  const small = ['--epochs', '1', '--batch-size', '8', '--threads', '1', '--glue-dir', glue, '--cache-dir', cache];

  it('general distillation needs no --task and writes an encoder-only student; the task stage gives it a new classifier (said, in the lineage); eval scores it', async () => {
    const bareTeacher = await teacher('bare-teacher', 2, true, { architectures: ['BertModel'] });
    const mnliTeacher = await teacher('mnli-teacher', 3, false, { id2label: { 0: 'entailment', 1: 'neutral', 2: 'contradiction' } });
    const general = freshOutput();
    const student = 'bert:layers=1,hidden=16,heads=2,intermediate=32';
    const g = await inProcess(
      'distill',
      '--teacher',
      bareTeacher,
      '--student',
      student,
      '--stage',
      'general',
      '--intermediate',
      'tinybert',
      '--corpus',
      corpus,
      '-o',
      general,
      ...small,
    );
    expect(g.code, g.stderr).toBe(0);
    const lines = g.stdout.trim().split('\n');
    expect(lines[0]).toBe(`distill general distillation: BERT 1×16 (2 heads, FFN 32) from scratch, encoder only from ${bareTeacher}`);
    expect(lines.at(-1)).toMatch(/ parameters; encoder only, no classifier: outputs last_hidden_state, pooler_output\) and /);
    expect(JSON.parse(readFileSync(`${general}.json`, 'utf8')).output.encoderOnly).toBe(true);
    // eval refuses it: it has no classifier
    const refused = await inProcess('eval', join(general, '..'), '--task', 'MNLI-m', '--glue-dir', glue);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /encoder-only \(outputs last_hidden_state, pooler_output; no classifier\): eval needs a classifier; compress distill --stage task gives it one\n$/,
    );

    const task = freshOutput();
    const t = await inProcess(
      'distill',
      '--teacher',
      mnliTeacher,
      '--student',
      join(general, '..'),
      '--task',
      'MNLI-m',
      '--intermediate',
      'tinybert',
      '-o',
      task,
      ...small,
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr.split('\n')).toContain('the student has no classifier for MNLI-m: a new one (3 labels) is initialised (seed 1)');
    const lineage = JSON.parse(readFileSync(`${task}.json`, 'utf8'));
    expect(lineage.student.newClassifier).toEqual({ outputs: 3, seed: 1, reason: 'it has none' });
    expect(t.stdout.split('\n')[0]).toBe(`distill MNLI-m: canonical rebuild of ${join(general, '..')} with a new classifier (3 outputs) from ${mnliTeacher}`);
    const e = await inProcess('eval', join(task, '..'), '--task', 'MNLI-m', '--glue-dir', glue, '--json');
    expect(e.code, e.stderr).toBe(0);
    const accuracy = lineage.epochs[0].metrics.accuracy;
    expect(JSON.stringify(JSON.parse(e.stdout))).toContain(`"accuracy":${accuracy}`);
  });
});

describe('Ctrl-C and progress', () => {
  it('the first Ctrl-C aborts (the run checkpoints after its step), the second quits at once', () => {
    const calls: string[] = [];
    const handler = ctrlC({ abort: () => calls.push('abort'), log: (l) => calls.push(l), quit: () => calls.push('quit') });
    handler();
    expect(calls).toEqual(['abort', expect.stringMatching(/Ctrl-C again to quit/)]);
    handler();
    expect(calls.at(-1)).toBe('quit');
  });

  /** A stream that looks like a terminal (or not) and keeps what is written. */
  function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
    const chunks: string[] = [];
    const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
    Object.assign(s, { isTTY, columns: 160, cursorTo: () => true, clearLine: () => true, moveCursor: () => true, clearScreenDown: () => true });
    s.on('data', (c: Buffer) => chunks.push(c.toString()));
    return { stream: s, text: () => chunks.join('') };
  }

  it('on a terminal: a bar with steps, epoch, mean loss, examples/s and ETA, log lines above it', async () => {
    const { stream, text } = fakeStream(true);
    const p = createTrainingProgress(stream);
    p.step({ step: 1, totalSteps: 8, epoch: 0, epochs: 2, loss: 0.7, examplesPerSecond: 120 });
    p.log('epoch 1: loss 0.6931, dev SST-2 50.92');
    p.step({ step: 5, totalSteps: 8, epoch: 1, epochs: 2, loss: 0.5, examplesPerSecond: 130 });
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(text()).toMatch(/5\/8 steps \| epoch 2\/2 \| loss 0\.6000 \| 130 ex\/s \| ETA/);
    expect(text()).toContain('epoch 1: loss 0.6931, dev SST-2 50.92\n');
  });

  it("on a terminal: the bar counts the epochs of the phase running (an intermediate phase's own), not the run's --epochs", async () => {
    const { stream, text } = fakeStream(true);
    const p = createTrainingProgress(stream);
    p.step({ step: 1, totalSteps: 2, epoch: 0, epochs: 1, loss: 0.7, examplesPerSecond: 120 });
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(text()).toMatch(/1\/2 steps \| epoch 1\/1 \|/);
  });

  it('elsewhere: only the log lines', async () => {
    const { stream, text } = fakeStream(false);
    const p = createTrainingProgress(stream);
    p.step({ step: 1, totalSteps: 8, epoch: 0, epochs: 2, loss: 0.7, examplesPerSecond: 120 });
    p.log('epoch 1: loss 0.6931');
    p.stop();
    await new Promise((r) => setImmediate(r));
    expect(text()).toBe('epoch 1: loss 0.6931\n');
  });
});

/**
 * `--format transformers.js`: a model written as the folder `@huggingface/transformers` loads with
 * `pipeline('text-classification', FOLDER)`, no Python: `config.json` (id2label intact, LABEL_i when the source has
 * none), `tokenizer.json` (built from vocab.txt when the source has only that, as evaluation builds it),
 * `tokenizer_config.json` (the special tokens transformers.js reads from it, and the evaluation length), and
 * `onnx/model.onnx`. A quantized pipeline also writes its quantized model under the name transformers.js 4.3 maps
 * the dtype to (`dtype: 'q8'` → `onnx/model_quantized.onnx`, `'q4'` → `onnx/model_q4.onnx`, mode float16's `'fp16'`
 * → `onnx/model_fp16.onnx`; see its
 * `DEFAULT_DTYPE_SUFFIX_MAPPING`) and names that dtype the default in `config.json`'s `transformers.js_config`, which
 * `pipeline()` reads when no dtype is asked (a float folder names fp32: without a dtype, transformers.js in a browser
 * loads q8); `onnx/model.onnx` is then the same pipeline without its quantize steps, so `dtype: 'fp32'` loads the
 * float model. Every model file has its lineage sidecar beside it.
 *
 * The graph must take what transformers.js feeds (int64 `input_ids`, `attention_mask`, `token_type_ids` when it
 * has token types, any sequence length) and give `logits`: inputs and the scores output under other names are
 * renamed by their role (src/bert/model-inputs.ts) and int32 ones taken as int64 and cast to int32 inside, before
 * the passes run; a fixed length is refused.
 * An encoder-only model (transformers' BertModel, as `distill --stage general` writes from a teacher without a
 * classifier) is written for `pipeline('feature-extraction', FOLDER)` instead: its hidden states as
 * `last_hidden_state`, config.json with its base class and no labels.
 * The folder is built in a staging folder beside the output and renamed into place; an existing output must be an
 * empty folder.
 */
import { existsSync, lstatSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { buildFromHuggingFaceFolder, checkpointWeightFiles } from '../bert/build-hf.ts';
import { findBert } from '../bert/discover.ts';
import { quantizedWeight } from '../bert/stored-quantized.ts';
import { quantizedFrom, quantizedWith } from '../bench/lineage.ts';
import { RECURRENT_MODEL, recurrentModelLstm } from '../bert/recurrent.ts';
import { encoderOnlyNote, headInWords, isEncoderOnly } from '../bert/classifier.ts';
import { withComputedPositions } from '../bert/computed-positions.ts';
import { withInt64Inputs } from '../bert/int64-inputs.ts';
import { modelInputs, type InputRole } from '../bert/model-inputs.ts';
import { inputLimits } from '../bert/input-limits.ts';
import type { BertStructure, HeadKind, ModelFamily } from '../bert/structure.ts';
import { checkFolderOutputName, checkOutputFolder, fileSystemError, lineageSourcePath } from '../destination.ts';
import { choiceRefusal, counted, isAre, plural, SettingsError, UsageError, fsReason, namingUserPaths, quotedText } from '../errors.ts';
import {
  checkConfigLabels,
  checkModelLengthRoom,
  checkTemplateTypes,
  evalLength,
  graphFacts,
  namedOtherHead,
  otherHeadLine,
  scoresOutput,
  specialTokenCount,
} from '../eval/graph-checks.ts';
import { defaultMaxLength } from '../eval/evaluate.ts';
import { MODEL_SIDE_FILES, parseModelConfig, readJsonObject, readModelFile } from '../eval/model-files.ts';
import {
  checkVocabularyRows,
  folderTokenizerJson,
  modelMaxLengthOf,
  type TextTokenizer,
  tokenizerFolder,
  tokenName,
  type TokenizerConfigJson,
  bpeReadsSubwordPrefix,
  decoderFoldsOtherwise,
  type BrokenTemplates,
  fusesUnknownsInTransformersJs,
  unigramByteFallbackOf,
  loadTokenizer,
  missingUnkToken,
  bytePiecesSpellAll,
  normalizesByCharsmap,
  tokenizerFromJson,
  withoutSlowOnlyOptions,
  withNormalizingTransformersJsReads,
  withSplitsTransformersJsReads,
  withPairTypesZero,
  returnsTokenTypes,
  withConfigNormalizer,
  withNormalizerClassLoads,
} from '../eval/tokenizer.ts';
import { shellWord } from '../shell-word.ts';
import { someNames } from '../some-names.ts';
import { sha256File, sha256FileSync, writeFileAtomic } from '../files.ts';
import { floatStorage, modelSize } from '../onnx/size.ts';
import { toolVersion } from '../version.ts';
import { renameValue } from '../onnx/analysis.ts';
import { DataType, dataTypeName } from '../onnx/dtype.ts';
import { cloneModel, type Model } from '../onnx/graph.ts';
import { graphOpTypes, loadModel } from '../onnx/load.ts';
import { locateModel } from '../onnx/locate.ts';
import { moveExternalModel, saveModel } from '../onnx/save.ts';
import type { PassStep } from '../pass/pass.ts';
import { parseSteps } from '../pass/pipeline.ts';
import {
  CHECK_SAMPLE,
  checkCompressOptions,
  compressFile,
  inputRecord,
  loadInput,
  saveRunnable,
  withOutputLock,
  type CompressOptions,
  type ConfigRecord,
  type Lineage,
} from './compress.ts';
import { checkpointSeeding, type ExportOptions } from './from-huggingface.ts';
import { withSpecialIdsTransformersJsReads } from './transformers-js-special-ids.ts';
import { type AddedFoundNormalized, addedFoundNormalized } from './transformers-js-added.ts';
import {
  CLASSIFIER_ARCHITECTURES,
  FAMILY_MODEL_TYPES,
  GRAPH_ONLY_KEY,
  TRANSFORMERS_JS_CONFIG,
  classifierArchitecture,
  headConfigFields,
  outputModelConfig,
} from '../eval/output-config.ts';
import { inputFiles, lineagePath, openStaging, realPathOf } from './destination.ts';
import { checkOptionalString, checkStringOption } from '../library-args.ts';
import { ensureFolder, removingFoldersMadeOnFailure } from '../folders.ts';
import { parseMode } from '../quantize/settings.ts';

/** The dtypes this writes, by the name transformers.js gives them (`pipeline(…, { dtype })`). */
export type TransformersJsDtype = 'fp32' | 'fp16' | 'q8' | 'q4';

/** Where transformers.js 4.3 looks for each dtype's model in the folder (`onnx/model${suffix}.onnx`). */
export const TRANSFORMERS_JS_MODEL_FILES: Readonly<Record<TransformersJsDtype, string>> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
  q4: 'onnx/model_q4.onnx',
};

/** The input names transformers.js feeds, by role. */
const INPUT_NAMES: Readonly<Record<InputRole, string>> = { ids: 'input_ids', mask: 'attention_mask', types: 'token_type_ids', positions: 'position_ids' };

/** What was written. */
export interface TransformersJsFolder {
  /** The output folder. */
  folder: string;
  /** Its files, relative to the folder, sorted. */
  files: string[];
  /** The dtype `pipeline()` loads when none is asked. */
  defaultDtype: TransformersJsDtype;
  /** Each model file (relative path) with the dtype that loads it. */
  models: Array<{ dtype: TransformersJsDtype; file: string }>;
  /** Graph inputs and outputs renamed to what transformers.js feeds and reads (old name → new). */
  renamed: Record<string, string>;
  /** What a transformers.js user should know about the folder, one line each (folderNotes). */
  notes: string[];
}

/** What `compressToTransformersJs` wrote, with the lineage of the model `pipeline()` loads by default. */
export interface CompressedTransformersJsFolder extends TransformersJsFolder {
  lineage: Lineage;
}

export interface TransformersJsExportOptions extends ExportOptions {
  /** The folder of the tokenizer files when not the checkpoint's (`--tokenizer`; a tokenizer file names its folder). */
  tokenizerDir?: string;
}

export interface TransformersJsCompressOptions extends CompressOptions {
  /** The folder of the tokenizer files when not the model folder's (`--tokenizer`; a tokenizer file names its folder). */
  tokenizerDir?: string;
}

/**
 * `compress MODEL [passes] --format transformers.js -o FOLDER`: runs the pipeline (and, when it quantizes, the
 * pipeline without its quantize steps for `onnx/model.onnx`, the steps before the first quantize run once for
 * both) through `compressFile`, each model checked by
 * onnxruntime and written with its lineage, then writes the config and tokenizer files and moves the folder into place.
 */
export async function compressToTransformersJs(opts: TransformersJsCompressOptions): Promise<CompressedTransformersJsFolder> {
  checkCompressOptions('compressToTransformersJs', opts, 'the transformers.js folder to write');
  checkOptionalString('compressToTransformersJs', 'tokenizerDir', opts.tokenizerDir, 'a tokenizer folder or file');
  if (opts.tokenizerDir !== undefined) tokenizerFolder(opts.tokenizerDir); // (a file that is no tokenizer's refused before any work)
  if (opts.externalData) throw new SettingsError('--external-data: a transformers.js folder keeps the weights in its .onnx files');
  parseSteps(opts.steps); // an unknown pass or a bad setting refuses before any folder is made
  const sourceDir = opts.modelDir ?? locateModel(opts.input).dir;
  const label = `-o ${opts.output}`;
  // (read once: the float and quantized runs take it, loaded)
  const loaded = opts.loaded ?? loadInput(opts.input);
  const source = loaded.model;
  if (recurrentModelLstm(source))
    throw new SettingsError(
      `--format transformers.js: the model is ${RECURRENT_MODEL}, for which transformers.js has no model type: write an .onnx file (--format onnx)`,
    );
  const plan = transformersJsGraph(source, opts.input);
  // (onnx/model.onnx is the float32 model, dtype fp32: a model stored quantized, or with its weights in float16 (quantize
  // float16's output, float32 inputs and logits), written there would be loaded as one; --quantize writes both files)
  const stored = quantizedWeight(plan.structure);
  const storage = floatStorage(source);
  if (stored || (storage !== undefined && storage !== DataType.FLOAT)) {
    // (the way out as a command, which compress export, taking no --quantize, cannot run: the float model and the
    // quantize mode its lineage names)
    const float = quantizedFrom(opts.input) ?? 'FLOAT_MODEL';
    const mode = quantizedWith(opts.input) ?? (stored ? 'MODE' : 'float16');
    const what = stored ?? `its weights are stored in ${dataTypeName(storage!)}`;
    throw new SettingsError(
      `--format transformers.js: ${opts.input}: ${what}, and the folder's onnx/model.onnx is its float model (dtype fp32): write the folder from the float model, whose --quantize writes both: compress ${shellWord(float)}${opts.steps.length ? ' …' : ''} --quantize ${mode} --format transformers.js -o ${shellWord(opts.output)}`,
    );
  }
  // (a head config.json names as another's (BertForMultipleChoice) that the graph does not show to be a sequence
  // classifier: its config.json would be written naming one, as a seeded head's is)
  const configFile = join(sourceDir, 'config.json');
  const other =
    plan.structure.head?.kind === 'sequence-classification' && existsSync(configFile)
      ? namedOtherHead(readJsonObject(configFile).architectures, plan.model, plan.structure)
      : undefined;
  if (other) {
    throw new SettingsError(
      `--format transformers.js: ${otherHeadLine(configFile, other)}; the folder's config.json would name it one, and transformers.js read its scores as a sequence classifier's`,
    );
  }
  // (a tokenizer the folder cannot be written with, a position table it leaves no room for text in, and config.json's
  // labels against the scores, which no pass changes, refused before the passes run, which may take hours:
  // transformersJsConfig checks the labels where it writes them)
  const tokenizerSource = transformersJsTokenizerSource(opts.tokenizerDir ?? sourceDir, sourceDir, plan.structure.vocabSize, opts.input);
  checkLengthRoom(plan.model, plan.structure, tokenizerSource, sourceDir, opts.input);
  if (tokenizerSource.sourceConfig) {
    checkModelType(tokenizerSource.sourceConfig, configFile);
    checkConfigLabels(parseModelConfig(tokenizerSource.sourceConfig, configFile), graphFacts(plan.model, plan.structure).scoreWidth, opts.input);
  }
  return removingFoldersMadeOnFailure([opts.output], async () => {
    checkFolderOutput(opts.output, [...inputFiles(opts.input, []), ...sideFiles(sourceDir)], label);
    const staging = openStaging(opts.output);
    try {
      const dir = staging.path(basename(resolve(opts.output)));
      ensureFolder(join(dir, 'onnx'), label);
      let input = opts.input;
      if (plan.model !== source) {
        input = staging.path('renamed-input.onnx');
        saveModel(plan.model, input);
      }
      const renamedLoaded = input === opts.input ? undefined : loadInput(input);
      const quantized = opts.steps.some(isQuantize);
      // The steps before the first quantize run once: the float model's run keeps their result for the quantized one.
      // (and the input's side of the check, run and hashed once: SharedInput)
      const shared = quantized ? { prefix: { length: opts.steps.findIndex(isQuantize) } } : undefined;
      // (the lineage alone: compressFile's copiedFiles says what it copied beside a model file, here nothing, copyModelFiles false)
      const run = (file: string, steps: PassStep[], dataFile?: string): Promise<Lineage> =>
        compressFile({
          ...opts,
          input,
          output: join(dir, file),
          steps,
          externalData: false,
          ...(dataFile ? { dataFile } : {}),
          copyModelFiles: false,
          shared,
          loaded: input === opts.input ? loaded : renamedLoaded, // (a renamed copy is another model)
        }).then(({ copiedFiles: _, ...lineage }) => lineage);
      const models: Array<{ dtype: TransformersJsDtype; file: string; lineage: Lineage }> = [];
      const fpFile = TRANSFORMERS_JS_MODEL_FILES.fp32;
      const fpSteps = quantized ? opts.steps.filter((s) => !isQuantize(s)) : opts.steps;
      models.push({ dtype: 'fp32', file: fpFile, lineage: await run(fpFile, fpSteps, externalDataName(fpFile)) });
      const fp32 = loadModel(join(dir, fpFile));
      if (quantized) {
        const staged = join(dir, 'onnx', 'model_staged.onnx');
        const lineage = await run(relative(dir, staged), opts.steps);
        // float16 by its mode; q8 or q4 by the node types (not its weights, which may be past 2 GiB)
        const dtype = opts.steps.some(isFloat16) ? 'fp16' : quantizedDtype(graphOpTypes(staged));
        const file = TRANSFORMERS_JS_MODEL_FILES[dtype];
        if (lineage.output.dataFile) {
          // its .onnx names the data file by the staged name: the data file renamed to the one transformers.js fetches,
          // and only the .onnx written again (not the weights: past 2 GiB, a second serialization of them)
          const saved = moveExternalModel(staged, join(dir, file), externalDataName(file));
          rmSync(lineagePath(staged), { force: true });
          lineage.output = { ...lineage.output, sha256: await sha256File(join(dir, file)), dataFile: saved.data! };
        } else {
          renameSync(staged, join(dir, file));
          renameSync(lineagePath(staged), lineagePath(join(dir, file)));
        }
        models.push({ dtype, file, lineage });
      }
      const last = models[models.length - 1]!;
      const external = models.filter((m) => m.lineage.output.dataFile).map((m) => basename(m.file));
      const sides = writeSideFiles(sourceDir, dir, fp32, last.dtype, opts.input, undefined, tokenizerSource, external);
      const config = { path: join(opts.output, 'config.json'), written: true, graphOnly: sides.graphOnly };
      const renamedInput = plan.model !== source ? await inputRecord(opts.input) : undefined;
      for (const m of models) finishLineage(m.lineage, dir, m.file, opts.output, plan.renamed, renamedInput, config);
      await commitFolder(dir, opts.output, label, opts.context?.log);
      return {
        folder: opts.output,
        files: listFiles(opts.output),
        defaultDtype: last.dtype,
        models: models.map(({ dtype, file }) => ({ dtype, file })),
        renamed: plan.renamed,
        notes: folderNotes(fp32, opts.output, sides),
        lineage: last.lineage,
      };
    } catch (e) {
      const dir = staging.path(basename(resolve(opts.output)));
      throw namingUserPaths(e, [
        [dir, opts.output],
        [join(dir, 'onnx', 'model_staged.onnx'), join(opts.output, TRANSFORMERS_JS_MODEL_FILES[plannedDtype(opts.steps)])],
        [staging.path('renamed-input.onnx'), opts.input],
        [staging.dir, dirname(opts.output)],
      ]);
    } finally {
      staging.remove();
    }
  });
}

/**
 * A note for a model whose graph fixes its batch size (a static-shape export at [1, seq]): transformers.js' pipeline
 * runs a list of texts as one batch of that many rows, which onnxruntime refuses ("Got invalid dimensions for input")
 * unless the list holds as many texts as the graph fixes. None where the batch size is dynamic.
 */
export function fixedBatchNote(model: Model, folder: string): string[] {
  const rows = graphFacts(model).fixedBatch;
  if (rows === null) return [];
  return [
    `note: ${folder}'s model fixes its batch size at ${rows}: transformers.js runs a list of texts as one batch, which onnxruntime refuses unless it holds ${counted(rows, 'text')}; call its pipeline with ${rows === 1 ? 'one text at a time' : `${rows} texts at a time`}`,
  ];
}

/**
 * A note for a model that gives one score (a regression head such as STS-B's, a cross-encoder): transformers.js'
 * text-classification pipeline applies softmax to the scores unless config.json's problem_type is
 * multi_label_classification, so it answers 1 for every text; the score is the logits of
 * AutoModelForSequenceClassification. None for a model of several scores or none (an encoder). Its scores per example
 * as evaluation and the folder's config.json read them (graphFacts' scoreWidth: the classifier's, where the scores
 * output's shape does not say it).
 */
export function singleScoreNote(model: Model, folder: string): string[] {
  if (graphFacts(model).scoreWidth !== 1 || model.graph.outputs.every((o) => o.name !== 'logits')) return [];
  return [
    `note: ${folder} gives one score (a regression or cross-encoder head): transformers.js' pipeline('text-classification') applies softmax to it and answers 1 for every text; read the score as AutoModelForSequenceClassification's logits`,
  ];
}

/**
 * The external data file transformers.js fetches beside a model file past protobuf's 2 GiB (`model.onnx_data`, as
 * Optimum names it) when config.json's `transformers.js_config.use_external_data_format` names that file.
 */
function externalDataName(modelFile: string): string {
  return `${basename(modelFile)}_data`;
}

/**
 * `compress export HF_FOLDER --format transformers.js -o FOLDER`: the exported model as `onnx/model.onnx` (checked
 * by onnxruntime) with its lineage (the checkpoint's weights file as input, no passes) and the folder's config and
 * tokenizer files.
 */
export async function exportToTransformersJs(hfDir: string, output: string, opts: TransformersJsExportOptions = {}): Promise<TransformersJsFolder> {
  checkStringOption('exportToTransformersJs', 'hfDir', hfDir, 'a Hugging Face model folder');
  checkStringOption('exportToTransformersJs', 'output', output, 'the transformers.js folder to write');
  checkOptionalString('exportToTransformersJs', 'tokenizerDir', opts.tokenizerDir, 'a tokenizer folder or file');
  if (opts.tokenizerDir !== undefined) tokenizerFolder(opts.tokenizerDir); // (a file that is no tokenizer's refused before any work)
  const label = `-o ${output}`;
  const { fillMissing, notice } = checkpointSeeding(hfDir, opts); // a missing head seeded
  const built = buildFromHuggingFaceFolder(hfDir, fillMissing ? { fillMissing } : {});
  const plan = transformersJsGraph(built, hfDir);
  // (a tokenizer the folder cannot be written with, or a position table it leaves no room for text in, refused before any work)
  const tokenizerSource = transformersJsTokenizerSource(opts.tokenizerDir ?? hfDir, hfDir, plan.structure.vocabSize, hfDir);
  checkLengthRoom(plan.model, plan.structure, tokenizerSource, hfDir, hfDir);
  const sources = readdirSync(hfDir).map((f) => join(hfDir, f));
  return removingFoldersMadeOnFailure([output], async () => {
    checkFolderOutput(output, sources.map(realPathOf), label);
    const staging = openStaging(output);
    try {
      const dir = staging.path(basename(resolve(output)));
      ensureFolder(join(dir, 'onnx'), label);
      const structure = findBert(plan.model);
      const fpFile = TRANSFORMERS_JS_MODEL_FILES.fp32;
      const saved = await saveRunnable(plan.model, structure, join(dir, fpFile), sources, { dataFile: externalDataName(fpFile) });
      const sides = writeSideFiles(hfDir, dir, plan.model, 'fp32', hfDir, structure, tokenizerSource, saved.data ? [basename(fpFile)] : []);
      // its lineage, as every model file of the folder has one: what makes the folder one compress wrote (notWritten),
      // replaced by the same export run again
      const size = modelSize(plan.model);
      const lineage: Lineage = {
        tool: { name: 'bert-compress', version: toolVersion() },
        createdAt: new Date().toISOString(),
        input: await checkpointRecord(hfDir),
        passes: [],
        before: size,
        after: size,
        check: { drift: [], ...CHECK_SAMPLE }, // (run, with no model before it to compare)
        output: {
          path: join(output, fpFile),
          sha256: await sha256File(saved.model),
          ...(saved.data ? { dataFile: join(output, dirname(fpFile), basename(saved.data)) } : {}),
        },
        config: { path: join(output, 'config.json'), written: true, graphOnly: sides.graphOnly },
      };
      writeFileAtomic(lineagePath(saved.model), JSON.stringify(lineage, null, 2) + '\n');
      await commitFolder(dir, output, label, opts.log);
      if (notice) opts.log?.(notice);
      return {
        folder: output,
        files: listFiles(output),
        defaultDtype: 'fp32',
        models: [{ dtype: 'fp32', file: TRANSFORMERS_JS_MODEL_FILES.fp32 }],
        renamed: plan.renamed,
        notes: folderNotes(plan.model, output, sides),
      };
    } catch (e) {
      throw namingUserPaths(e, [
        [staging.path(basename(resolve(output))), output],
        [staging.dir, dirname(output)],
      ]);
    } finally {
      staging.remove();
    }
  });
}

/**
 * The lineage's record of the checkpoint an export read: its weights file (`model.safetensors`; a sharded
 * checkpoint's index, which names its shards) and that file's sha256.
 */
async function checkpointRecord(dir: string): Promise<Lineage['input']> {
  const files = checkpointWeightFiles(dir);
  const file = files.length === 1 ? files[0]! : join(dir, 'model.safetensors.index.json');
  return { path: lineageSourcePath(file), sha256: await sha256File(file) };
}

/** A quantized model's dtype, from its graph's operator types (graphOpTypes): q4 when it holds 4-bit block-quantized MatMuls (MatMulNBits), else q8. */
export function quantizedDtype(opTypes: ReadonlySet<string>): 'q8' | 'q4' {
  return opTypes.has('MatMulNBits') ? 'q4' : 'q8';
}

/**
 * `model` with its inputs and scores output named as transformers.js feeds and reads them (a copy when changed),
 * computing the position ids it takes as an input (transformers.js feeds none; withComputedPositions), and taking
 * int32 token inputs as the int64 ones transformers.js feeds, cast to int32 inside (withInt64Inputs).
 * A SettingsError for a head the graph shows to be another than a sequence classifier's (headInWords), and for what
 * transformers.js cannot feed: an input that is not token ids, mask or types, or a fixed sequence length (it pads each
 * batch to its longest text).
 */
export function transformersJsGraph(source: Model, name: string): { model: Model; renamed: Record<string, string>; structure: BertStructure } {
  const found = findBert(source);
  // (a head the graph shows to be another's (a pretraining, next-sentence-prediction or multiple-choice head, a span's
  // scores): its config.json would be written naming a sequence classifier, as a seeded head's is; said before its
  // outputs are looked at as a classifier's, whose refusal (no [batch, labels] scores) would hide what it is)
  const head = found.head;
  if (head !== undefined && head.kind !== 'sequence-classification' && head.kind !== 'unknown') {
    throw new SettingsError(
      `--format transformers.js: ${name}: the model has ${headInWords(head)}, not a sequence classifier; the folder's config.json would name it one, and transformers.js read its scores as a sequence classifier's`,
    );
  }
  // (transformers.js feeds no position ids: a graph that takes them as an input computes them, as it is fed them)
  let model = withComputedPositions(source, found, name);
  const structure = model === source ? found : findBert(model);
  const inputs = modelInputs(model, structure);
  const declared = model.graph.inputs.filter((v) => !model.graph.initializers.has(v.name)).map((v) => v.name);
  const other = declared.find((n) => !inputs.some((i) => i.name === n));
  if (other !== undefined) {
    throw new SettingsError(`${name}: input ${quotedText(other)} is not token ids, attention mask or token types; transformers.js feeds only those`);
  }
  const fixed = inputLimits(model, structure).fixedSequence;
  if (fixed !== null) {
    throw new SettingsError(`${name}: the graph fixes the sequence length to ${fixed}; transformers.js pads each batch to its longest text`);
  }
  // (transformers.js feeds int64 token ids, mask and types: int32 ones are taken as int64 and cast back)
  model = withInt64Inputs(model, inputs);
  const renamed: Record<string, string> = {};
  for (const i of inputs) if (i.name !== INPUT_NAMES[i.role]) renamed[i.name] = INPUT_NAMES[i.role];
  const outputs = model.graph.outputs.map((o) => o.name);
  /** The output transformers.js reads: the hidden states of an encoder-only model, else the class scores. */
  let read: string;
  if (isEncoderOnly(structure)) {
    // an encoder-only model (BertModel): pipeline('feature-extraction') reads its hidden states as last_hidden_state
    const hidden = structure.layers.at(-1)?.output;
    if (!outputs.includes(ENCODER_OUTPUT)) {
      if (hidden === undefined || !outputs.includes(hidden)) {
        throw new SettingsError(
          `${name}: ${encoderOnlyNote(model)}, and none of its outputs is the last layer's hidden states; transformers.js's feature-extraction pipeline reads them from ${quotedText(ENCODER_OUTPUT)}`,
        );
      }
      renamed[hidden] = ENCODER_OUTPUT;
      read = hidden;
    } else {
      read = ENCODER_OUTPUT;
    }
  } else {
    read = renameScores(model, structure, name, renamed);
  }
  // transformers.js (4.3) reads the logits and hidden states as float32 arrays: a float16 graph's (a Uint16Array of
  // float16 bits) fails in its softmax, whatever dtype the folder names
  const readType = model.graph.outputs.find((o) => o.name === read)?.elemType;
  if (readType === DataType.FLOAT16 || readType === DataType.BFLOAT16) {
    const type = dataTypeName(readType);
    throw new SettingsError(
      `${name}: output ${quotedText(read)} is ${type}, and transformers.js reads float32 ${isEncoderOnly(structure) ? 'hidden states' : 'logits'}: write the float32 model (the one converted to ${type}) instead`,
    );
  }
  const taken = new Set([...declared, ...outputs, ...model.graph.nodes.flatMap((n) => n.outputs)]);
  for (const [from, to] of Object.entries(renamed)) {
    if (taken.has(to))
      throw new SettingsError(`${name}: cannot rename ${quotedText(from)} to ${quotedText(to)} for transformers.js: the graph has a value ${quotedText(to)}`);
  }
  if (!Object.keys(renamed).length) return { model, renamed, structure: found }; // (a copy where positions are computed or inputs cast)
  const copy = cloneModel(model);
  for (const [from, to] of Object.entries(renamed)) renameValue(copy.graph, from, to);
  return { model: copy, renamed, structure: found };
}

/** The output transformers.js's feature-extraction pipeline reads the hidden states from (transformers' BertModel's). */
const ENCODER_OUTPUT = 'last_hidden_state';

/** Adds the renaming of a classifier's scores output to 'logits' (what transformers.js reads the class scores from); gives that output's name. */
function renameScores(model: Model, structure: BertStructure, name: string, renamed: Record<string, string>): string {
  // 'logits', else the output discovery finds a sequence classifier's head writing (as evaluation reads it: outputs
  // [output_0: hidden states, output_1: logits] declaring no shapes), else the first output (not evaluation's
  // scoresOutput, which looks past outputs not shaped as scores: a pretraining graph's next-sentence scores would be
  // renamed 'logits')
  const outputs = model.graph.outputs.map((o) => o.name);
  const head = structure.head?.kind === 'sequence-classification' && structure.head.outputs.length === 1 ? structure.head.outputs[0] : undefined;
  const scores = outputs.find((o) => o === 'logits') ?? (head !== undefined && outputs.includes(head) ? head : undefined) ?? outputs[0] ?? '';
  if (scores !== 'logits') {
    const rank = model.graph.outputs.find((o) => o.name === scores)?.shape?.length;
    if (rank !== undefined && rank !== 2) {
      throw new SettingsError(
        `${name}: no 'logits' output, and ${quotedText(scores)} is not [batch, labels] scores; transformers.js reads the class scores from 'logits'`,
      );
    }
    renamed[scores] = 'logits';
  }
  return scores;
}

const isQuantize = (s: PassStep): boolean => s.pass === 'quantize';

/**
 * The dtype of the quantized model `steps` write, as far as their modes tell (a mixed mode's 4-bit weights are read
 * from the written graph): what an error before it is written names it by.
 */
function plannedDtype(steps: readonly PassStep[]): TransformersJsDtype {
  if (steps.some(isFloat16)) return 'fp16';
  return steps.some((s) => isQuantize(s) && typeof s.settings.mode === 'string' && /^\s*int4/i.test(s.settings.mode)) ? 'q4' : 'q8';
}

/** A quantize step of mode float16 (the model transformers.js loads with dtype fp16). */
const isFloat16 = (s: PassStep): boolean => isQuantize(s) && parseMode(s.settings.mode).kind === 'float16';

/** The config and tokenizer files of a folder that exist. */
function sideFiles(dir: string): string[] {
  return MODEL_SIDE_FILES.map((f) => join(dir, f))
    .filter((f) => existsSync(f))
    .map(realPathOf);
}

/**
 * The output must be absent, an empty folder or one this tool wrote, replaced whole (a folder holds one model: other
 * files left there would be mixed with this one's), none of the input's files, and its parent must accept a new folder.
 */
export function checkFolderOutput(output: string, owned: readonly string[], label: string): void {
  const abs = resolve(output);
  checkFolderFree(output, label);
  const real = realPathOf(abs);
  const inside = owned.find((f) => f === real || f.startsWith(`${real}/`));
  if (inside) throw new UsageError(`${label}: ${inside} is one of the input model's files; refusing to write over it`);
  checkOutputFolder(dirname(abs), label);
}

/**
 * The output must be absent, an empty folder, or a transformers.js folder this tool wrote (notWritten), which is
 * replaced as an .onnx output is written over its earlier self; returns whether it is one to replace.
 */
function checkFolderFree(output: string, label: string): boolean {
  const abs = resolve(output);
  checkFolderOutputName(output, label);
  if (!existsSync(abs)) return false;
  if (!readdirSync(abs).length) return false;
  const foreign = notWritten(abs);
  if (foreign === undefined) return true;
  throw new SettingsError(
    `${label}: the folder ${output} is not empty and not a transformers.js folder compress wrote (${foreign}); give a new or empty folder`,
  );
}

/** A transformers.js model file name: `model.onnx`, `model_quantized.onnx`, `model_fp16.onnx`… */
const MODEL_FILE_NAME = /^model(_[A-Za-z0-9]+)?\.onnx$/;

/**
 * Why `dir` is not a transformers.js folder this tool wrote and nothing else, or undefined when it is one: config.json
 * and tokenizer files, and `onnx/` holding model files, each with its lineage sidecar (bert-compress's, recording the
 * file as written at `onnx/<name>` with the sha256 it still has) and the external data file that lineage names;
 * nothing more (a file or folder of the user's there makes it another folder, refused).
 */
function notWritten(dir: string): string | undefined {
  try {
    const regular = (path: string): boolean => lstatSync(path).isFile();
    for (const f of readdirSync(dir)) {
      if (f === 'onnx' ? !lstatSync(join(dir, f)).isDirectory() : !MODEL_SIDE_FILES.includes(f) || !regular(join(dir, f))) return `${f} is none of its files`;
    }
    const onnxDir = join(dir, 'onnx');
    if (!existsSync(onnxDir)) return 'no onnx/ folder';
    const files = readdirSync(onnxDir);
    const models = files.filter((f) => MODEL_FILE_NAME.test(f));
    if (!models.length) return 'no model file in onnx/';
    const expected = new Set<string>();
    for (const m of models) {
      let lineage: Partial<Lineage>;
      try {
        lineage = readJsonObject(join(onnxDir, `${m}.json`)) as Partial<Lineage>;
      } catch {
        return `onnx/${m} has no lineage of compress beside it`;
      }
      const written = lineage.output;
      if (lineage.tool?.name !== 'bert-compress' || typeof written?.path !== 'string' || typeof written.sha256 !== 'string')
        return `onnx/${m}.json is not a lineage of compress`;
      if (basename(written.path) !== m || basename(dirname(written.path)) !== 'onnx') return `onnx/${m}.json is the lineage of ${written.path}`;
      if (!regular(join(onnxDir, m)) || sha256FileSync(join(onnxDir, m)) !== written.sha256) return `onnx/${m} changed since compress wrote it`;
      expected.add(m).add(`${m}.json`);
      if (typeof written.dataFile === 'string') expected.add(basename(written.dataFile));
    }
    const other = files.find((f) => !expected.has(f) || !regular(join(onnxDir, f)));
    return other === undefined ? undefined : `onnx/${other} is none of its files`;
  } catch (e) {
    return fsReason(e); // (unreadable: not one to replace)
  }
}

/**
 * Renames the staged folder into place (over an empty folder, or over a folder this tool wrote, moved aside into
 * the staging folder first and removed with it; killed between the two renames, the next run's cleanup of dead staging
 * folders puts it back: destination.ts, restoreReplaced), holding the output folder's lock (withOutputLock) as every run
 * putting its output in place does: a run writing the same folder meanwhile is waited for, and the folder it filled
 * is then refused as at the start when it is not one this tool wrote, not mixed or half-replaced. A one-line
 * UserError if that fails.
 */
async function commitFolder(staged: string, output: string, label: string, log: ((line: string) => void) | undefined): Promise<void> {
  await withOutputLock(output, log, () => {
    const replace = checkFolderFree(output, label);
    const aside = `${staged}.replaced`;
    try {
      if (replace) renameSync(output, aside);
      else if (existsSync(output)) rmdirSync(output);
    } catch (e) {
      throw fileSystemError(e, output, label) ?? e;
    }
    try {
      renameSync(staged, output);
    } catch (e) {
      if (replace) renameSync(aside, output); // (the earlier folder back in place)
      throw fileSystemError(e, output, label) ?? e;
    }
  });
}

/**
 * Rewrites a model's lineage (written by compressFile in the staging folder) with the path the model will have in
 * the output folder, the folder's config.json and, when the input was a renamed copy, the input's own record (`input`, from inputRecord) and
 * the renaming.
 */
function finishLineage(
  lineage: Lineage,
  dir: string,
  file: string,
  output: string,
  renamed: Record<string, string>,
  input: Lineage['input'] | undefined,
  config: ConfigRecord,
): void {
  const { dataFile } = lineage.output; // (in the staging folder)
  lineage.output = { ...lineage.output, path: join(output, file), ...(dataFile ? { dataFile: join(output, dirname(file), basename(dataFile)) } : {}) };
  lineage.config = config;
  if (input) {
    lineage.input = input;
    (lineage as Lineage & { renamedForTransformersJs?: Record<string, string> }).renamedForTransformersJs = renamed;
  }
  writeFileAtomic(lineagePath(join(dir, file)), JSON.stringify(lineage, null, 2) + '\n');
}

/** What writeSideFiles says of the folder it wrote: config.json's `graph_only`, and what folderNotes warns of. */
interface SideFiles {
  graphOnly: string[];
  fusesUnknowns: boolean;
  byteFallback: boolean;
  /** Whether its tokenizer's normalizer holds a Precompiled, whose charsmap transformers.js does not read (precompiledNote). */
  precompiled: boolean;
  subwordPrefix: boolean;
  specialIds: boolean;
  /** The contents of its tokenizer's added tokens marked single_word (singleWordTokens), said by singleWordNote. */
  singleWord: string[];
  /** Its decoder's Replace regexes whose (?i:…) transformers.js folds otherwise (decoderFoldsOtherwise), said by decoderFoldNote. */
  decoderFolds: string[];
  /** Its tokenizer's TemplateProcessing templates tokenizers fails on (folderTokenizerJson's), said by brokenTemplateNote. */
  brokenTemplates: BrokenTemplates;
  /** Its added tokens of normalized false that transformers.js finds in other text (addedFoundNormalized), said by addedNormalizedNote. */
  addedNormalized: AddedFoundNormalized[];
  /** Its tokenizer's model's unk_token where its vocabulary lacks it (missingUnkToken), said by missingUnkNote. */
  missingUnk?: { type: string; unk: string };
  pairType?: { gives: number; has: number };
}

/**
 * What a transformers.js user should know about the exported `folder` of float model `model`, one line each:
 * singleScoreNote, and the warnings of its side files (writeSideFiles: fusedUnknownsNote, byteFallbackNote, precompiledNote,
 * subwordPrefixNote, specialIdsNote, singleWordNote, addedNormalizedNote, decoderFoldNote, brokenTemplateNote, missingUnkNote,
 * pairTypeNote).
 */
function folderNotes(
  model: Model,
  folder: string,
  {
    fusesUnknowns,
    byteFallback,
    precompiled,
    subwordPrefix,
    specialIds,
    singleWord,
    decoderFolds,
    brokenTemplates,
    addedNormalized,
    missingUnk,
    pairType,
  }: SideFiles,
): string[] {
  return [
    ...singleScoreNote(model, folder),
    ...fixedBatchNote(model, folder),
    ...(fusesUnknowns ? [fusedUnknownsNote(folder)] : []),
    ...(byteFallback ? [byteFallbackNote(folder)] : []),
    ...(precompiled ? [precompiledNote(folder)] : []),
    ...(subwordPrefix ? [subwordPrefixNote(folder)] : []),
    ...(specialIds ? [specialIdsNote(folder)] : []),
    ...(singleWord.length ? [singleWordNote(folder, singleWord)] : []),
    ...(addedNormalized.length ? [addedNormalizedNote(folder, addedNormalized)] : []),
    ...(decoderFolds.length ? [decoderFoldNote(folder, decoderFolds)] : []),
    ...[brokenTemplates.single, brokenTemplates.pair].flatMap((problem) => (problem === undefined ? [] : [brokenTemplateNote(folder, problem)])),
    ...(missingUnk ? [missingUnkNote(folder, missingUnk)] : []),
    ...(pairType ? [pairTypeNote(folder, pairType)] : []),
  ];
}

/**
 * Writes config.json, tokenizer.json, tokenizer_config.json and special_tokens_map.json (when the source has it)
 * into `dir` from the source folder `from` and its tokenizer (`source`: transformersJsTokenizerSource's, read once before
 * any work and written as read then); `model` is the float model (its shape, label count and position limit).
 * Returns what config.json cannot say of the model (its `graph_only`) and whether transformers.js can tokenize a text
 * otherwise than evaluation (`fusesUnknowns`: fusesUnknownsInTransformersJs, said by fusedUnknownsNote; `byteFallback`:
 * a Unigram of byte_fallback, unigramByteFallbackOf, said by byteFallbackNote; `precompiled`: a Precompiled
 * normalizer, said by precompiledNote; `subwordPrefix`: a BPE's
 * continuing_subword_prefix, bpeReadsSubwordPrefix, said by subwordPrefixNote; `specialIds`: a post-processor's
 * special token of other ids than its text's that withSpecialIdsTransformersJsReads could not write as texts of
 * them, said by specialIdsNote; `singleWord`, its added tokens
 * marked single_word, singleWordTokens, said by singleWordNote; `addedNormalized`, its added tokens of normalized
 * false transformers.js also finds in a text its normalizer turns into them, addedFoundNormalized, said by
 * addedNormalizedNote), and the token type the written
 * tokenizer gives a pair's second text where the model has no row for it (`pairType`, said by
 * pairTypeNote).
 */
function writeSideFiles(
  from: string,
  dir: string,
  model: Model,
  defaultDtype: TransformersJsDtype,
  name: string,
  structure: BertStructure = findBert(model),
  { found, written: tokenizerWritten, sourceConfig, tokenizerFolderConfig, specialTokensMap }: TokenizerSource,
  externalData: readonly string[] = [],
): SideFiles {
  const configFile = join(from, 'config.json');
  // (config.json as read before the passes, which the checks read: not the file as it is now, edited meanwhile)
  const config = sourceConfig ?? {};
  const write = (file: string, json: unknown) => writeFileAtomic(join(dir, file), JSON.stringify(json, null, 2) + '\n');
  // (the label count as evaluation reads it: the classifier's where the scores output's shape does not say it)
  const written = transformersJsConfig(
    config,
    configFile,
    model,
    structure.family,
    defaultDtype,
    name,
    structure.head?.kind,
    graphFacts(model, structure).scoreWidth,
  );
  if (externalData.length) {
    // transformers.js fetches `onnx/<file>_data` beside each model file its config names here (and nothing otherwise)
    const current = written[TRANSFORMERS_JS_CONFIG];
    written[TRANSFORMERS_JS_CONFIG] = {
      ...(current && typeof current === 'object' ? current : {}),
      use_external_data_format: Object.fromEntries(externalData.map((f) => [f, true])),
    };
  }
  write('config.json', written);

  // (transformers.js reads only tokenizer.json's normalizer, added tokens and post-processor: the config's, and
  // tokenizers' ids and token types, are written into it; a folder of vocab.txt, vocab.json with merges.txt or a
  // SentencePiece model gets the tokenizer.json evaluation builds from them: transformersJsTokenizerSource's `written`)
  const { json: tokenizer, config: tokenizerConfig } = found;
  const maxLength = parseModelConfig(config, configFile).maxLength;
  // (the class transformers' AutoTokenizer loads the folder as, where its tokenizer_config.json names none: a
  // SentencePiece model's family's class, else config.json's tokenizer_class (the tokenizer folder's, else the model's,
  // which the folder written holds), else its model type's: Multilingual-MiniLM's BERT config names XLMRobertaTokenizer;
  // a class of no family the project reads (BertJapaneseTokenizer, whose text it does not split as that class does) is
  // not named, since transformers.js reads one it lacks as its base class, which returns no token types)
  const readClasses = new Set(Object.values(CLASSIFIER_ARCHITECTURES).map((c) => c.replace(/ForSequenceClassification$/, 'Tokenizer')));
  // (each config.json as read before the passes, as the checks read it)
  const namedClass = (json: Record<string, unknown> | undefined) => {
    const named = json?.tokenizer_class;
    return typeof named === 'string' && readClasses.has(named.replace(/Fast$/, '')) ? named : undefined;
  };
  const tokenizerClass =
    found.tokenizerClass ??
    namedClass(tokenizerFolderConfig) ??
    namedClass(sourceConfig) ??
    classifierArchitecture(String(written.model_type), structure.family).replace(/ForSequenceClassification$/, 'Tokenizer');
  const maxPositions = inputLimits(model, structure).maxSequence;
  const writtenConfig = transformersJsTokenizerConfig(tokenizerConfig, tokenizer, maxLength, maxPositions, tokenizerClass);
  // (with a normalizer where the class written reads one on loading in transformers: withNormalizerClassLoads)
  const forTransformersJs = withNormalizerClassLoads(tokenizerWritten.json, String(writtenConfig.tokenizer_class));
  // (its bytes as read before the passes, which the checks read: not the file as it is now, edited meanwhile)
  if (found.bytes && forTransformersJs === tokenizer) writeFileSync(join(dir, 'tokenizer.json'), found.bytes);
  else write('tokenizer.json', forTransformersJs);
  write('tokenizer_config.json', writtenConfig);
  if (specialTokensMap) writeFileSync(join(dir, 'special_tokens_map.json'), specialTokensMap);
  // (the tokenizer written, as evaluation reads it, loaded once for the checks below; undefined where it cannot read it)
  const writtenTokenizer = loadedOrNone(dir);
  // (its model_max_length leaves room for text: checkLengthRoom refused one that does not, before any work)
  const pairType = pairTypeBeyond(writtenTokenizer, inputLimits(model, structure).typeVocabSize);
  // (an added token of normalized false that transformers.js finds in a text its normalizer turns into it)
  const addedNormalized = addedFoundNormalized(forTransformersJs, writtenConfig, writtenTokenizer);
  // (a BPE whose byte pieces spell every character needs no unknown token: tokenizers and transformers.js give the bytes)
  const missingUnk = bytePiecesSpellAll(tokenizer) ? undefined : missingUnkToken(tokenizer);
  return {
    graphOnly: (written[GRAPH_ONLY_KEY] as string[] | undefined) ?? [],
    fusesUnknowns: fusesUnknownsInTransformersJs(tokenizer),
    byteFallback: unigramByteFallbackOf(tokenizer),
    // (one whose charsmap maps nothing is written as no normalizer: withNormalizingTransformersJsReads)
    precompiled: normalizesByCharsmap(forTransformersJs),
    subwordPrefix: bpeReadsSubwordPrefix(tokenizer),
    specialIds: tokenizerWritten.unmatched,
    singleWord: singleWordTokens(tokenizer),
    decoderFolds: decoderFoldsOtherwise(tokenizer),
    brokenTemplates: found.brokenTemplates ?? {},
    addedNormalized,
    ...(missingUnk ? { missingUnk } : {}),
    ...(pairType ? { pairType } : {}),
  };
}

/**
 * transformersJsTokenizerSource's tokenizer folder, its files and the tokenizer.json written of them for transformers.js
 * (`written`: with `unmatched` where a post-processor's special token has no text of its ids), and the other files the
 * folder is written from as they were read then: the model folder's config.json (`sourceConfig`, undefined where it
 * has none), the tokenizer folder's (`tokenizerFolderConfig`, read for its tokenizer_class) and special_tokens_map.json
 * (`specialTokensMap`, its bytes).
 */
type TokenizerSource = {
  tokenizerFrom: string;
  found: NonNullable<ReturnType<typeof folderTokenizerJson>>;
  written: ReturnType<typeof withSpecialIdsTransformersJsReads>;
  sourceConfig?: Record<string, unknown>;
  tokenizerFolderConfig?: Record<string, unknown>;
  specialTokensMap?: Buffer;
};

/**
 * The tokenizer folder of `tokenizerGiven` (the model folder `from`, or --tokenizer's folder or file) and its files as
 * --format transformers.js writes them (folderTokenizerJson), or a one-line refusal of one it cannot write: no tokenizer
 * there, a decoder Replace of an option group @huggingface/tokenizers cannot compile (evaluation, which never decodes,
 * reads the folder without it; transformers.js would fail to load it), or a vocabulary past the `rows` of the word
 * embedding of the model `name` (checkVocabularyRows; no pass changes those rows); with the tokenizer.json written of
 * them for transformers.js (`written`), whose own refusals (a ByteLevel normalizer: withNormalizingTransformersJsReads)
 * come here too; with `from`'s and the tokenizer folder's config.json and its special_tokens_map.json. Read once, before any
 * pass runs or anything is written, and handed to the checks and to writeSideFiles, which writes the folder from them
 * (a file edited while the passes ran, hours for an ablation, is not written unchecked).
 */
function transformersJsTokenizerSource(tokenizerGiven: string, from: string, rows: number, name: string): TokenizerSource {
  // (a tokenizer file given names its folder, as training reads --tokenizer: vocab.json needs its merges.txt beside it)
  const tokenizerFrom = tokenizerFolder(tokenizerGiven);
  const found = folderTokenizerJson(tokenizerFrom);
  if (!found)
    throw new SettingsError(
      `${tokenizerFrom}: no tokenizer.json, vocab.txt, vocab.json with merges.txt or SentencePiece model; transformers.js needs the tokenizer${tokenizerFrom === from ? ' (give its folder with --tokenizer)' : ''}`,
    );
  if (found.decoderProblem !== undefined)
    throw new SettingsError(
      `--format transformers.js: ${found.file}: ${found.decoderProblem}, so transformers.js cannot load the tokenizer (compress eval reads it, as it never decodes): write the regex without that option group`,
    );
  // (transformers.js feeds the model the ids of the tokenizer's vocabulary: one past the word embedding's rows, a
  // tokenizer of another model given with --tokenizer, fails in the model's Gather on the first text that uses them)
  checkVocabularyRows(found.json, rows, tokenizerGiven === from ? tokenizerFrom : `--tokenizer ${tokenizerGiven}`, name);
  // (a Metaspace that splits, a Punctuation of a behavior other than Contiguous, a Whitespace or Digits, whose words or
  // digits it read as ASCII ones, a BertPreTokenizer, which it split on JS's \s and \p{P} (Node's Unicode, not
  // tokenizers' 8.0), and a WhitespaceSplit behind no cleaning normalizer, which it split on JS's \s, written so that
  // transformers.js splits alike, withSplitsTransformersJsReads;
  // a lower-casing normalizer and Chinese characters past U+FFFF, so that it normalizes alike,
  // withNormalizingTransformersJsReads (which refuses a ByteLevel normalizer); a pair's tokens all of type 0 where
  // model_input_names lack token_type_ids, as evaluation feeds them, withPairTypesZero: transformers.js reads no
  // model_input_names, and its class (BERT's …) returned the template's types; a class of no types, its own)
  const { json, config } = found;
  const typesDropped = Array.isArray(config.model_input_names) && returnsTokenTypes(tokenizerFrom, config) === false;
  const typed = typesDropped ? withPairTypesZero(json) : json;
  // (a post-processor's special tokens whose ids are not their texts' written as texts transformers.js gives those
  // ids, withSpecialIdsTransformersJsReads; `specialIds` where one has no such text)
  const written = withSpecialIdsTransformersJsReads(withSplitsTransformersJsReads(withNormalizingTransformersJsReads(typed, found.file), found.file));
  const configOf = (folder: string) => {
    const file = join(folder, 'config.json');
    return existsSync(file) ? readJsonObject(file) : undefined;
  };
  const sourceConfig = configOf(from);
  const tokenizerFolderConfig = resolve(tokenizerFrom) === resolve(from) ? sourceConfig : configOf(tokenizerFrom);
  const mapFile = join(tokenizerFrom, 'special_tokens_map.json');
  return {
    tokenizerFrom,
    found,
    written,
    ...(sourceConfig ? { sourceConfig } : {}),
    ...(tokenizerFolderConfig ? { tokenizerFolderConfig } : {}),
    ...(existsSync(mapFile) ? { specialTokensMap: readModelFile(mapFile) } : {}),
  };
}

/**
 * Refuses, before any work, a model (`model` of `structure`, named `name`) whose position table leaves no room for
 * text after the special tokens its tokenizer (`source`: transformersJsTokenizerSource's) adds to a single text, in compress eval's line
 * (checkModelLengthRoom), and a folder whose model_max_length (transformersJsMaxLength: the tokenizer_config.json's,
 * or the source folder `from`'s config.json max_length, where the smaller) leaves none (checkRoomForText):
 * transformers.js truncates every text to it; and a model whose token-type table lacks the type the tokenizer gives a
 * single text (a Funnel tokenizer's [CLS], type 2, on a model of two token types), in eval's line (checkTemplateTypes),
 * where the folder was written with a warning that a pair's type failed, though transformers.js fails on every text. No
 * pass changes the tables or those files. A tokenizer evaluation cannot read is left to the folder's other checks.
 */
function checkLengthRoom(model: Model, structure: BertStructure, { found, tokenizerFrom, sourceConfig }: TokenizerSource, from: string, name: string): void {
  let tokenizer: TextTokenizer;
  try {
    tokenizer = tokenizerFromJson(found.json, found.config, found.file, true, found.brokenTemplates);
  } catch {
    return;
  }
  const limits = inputLimits(model, structure);
  checkModelLengthRoom(limits, tokenizer, false, name);
  checkTemplateTypes(tokenizer, Number.MAX_SAFE_INTEGER, limits, name, false);
  const configFile = join(from, 'config.json');
  const maxLength = sourceConfig ? parseModelConfig(sourceConfig, configFile).maxLength : null;
  const ownLength = modelMaxLengthOf(found.config);
  const length = transformersJsMaxLength(found.config, maxLength, limits.maxSequence);
  // (a length of the model's position table alone leaves room: checkModelLengthRoom refused one that does not)
  const whence =
    length === undefined
      ? undefined
      : ownLength === length
        ? `${join(tokenizerFrom, 'tokenizer_config.json')}'s model_max_length ${length}`
        : maxLength === length
          ? `${configFile}'s max_length ${length}`
          : undefined;
  if (length === undefined || whence === undefined) return;
  // (the length compress eval takes of the folder where no --max-length is given: config.json's max_length first)
  const evalUses = evalLength(undefined, { maxLength }, limits, defaultMaxLength(ownLength));
  checkRoomForText(tokenizer, length, whence, name, evalUses);
}

/** The tokenizer of the folder `dir` as evaluation loads it; undefined where it cannot (nothing to check of it). */
function loadedOrNone(dir: string): TextTokenizer | undefined {
  try {
    return loadTokenizer(dir);
  } catch {
    return undefined;
  }
}

/**
 * Refuses, in one line, a folder whose tokenizer_config.json's model_max_length (`length`, from `whence`) leaves no room
 * for text after a single text's special tokens: transformers.js truncates every text to it after adding them, so it
 * would classify each text as its special tokens alone. The line says whether compress eval refuses the source folder
 * too, by the length it takes of it where no --max-length is given (`evalUses`: config.json's max_length where it
 * has one, which a tokenizer_config.json's model_max_length does not cap). `tokenizer`: the folder's tokenizer as
 * evaluation reads it (checkLengthRoom's).
 */
function checkRoomForText(tokenizer: TextTokenizer, length: number, whence: string, name: string, evalUses: number): void {
  let specials: number;
  try {
    specials = specialTokenCount(tokenizer, false);
  } catch {
    return; // (a tokenizer evaluation cannot encode with: nothing to say of its length)
  }
  const evalSays = evalUses <= specials ? 'compress eval refuses it too' : `compress eval cuts at ${evalUses} tokens instead`;
  if (length <= specials)
    throw new SettingsError(
      `${name}: ${whence} leaves no room for text after ${counted(specials, 'special token')}, where transformers.js truncates every text to it (${evalSays}): give it ${specials + 1} or more`,
    );
}

/**
 * The token type the tokenizer written (`tokenizer`: loadedOrNone's) gives a sentence pair (one pair encoded, as
 * eval's checkEncodings reads it) where the model's token-type table (`has` rows; null: the graph takes no token
 * types) lacks it: a model of one token type (type_vocab_size 1) under a BERT template, which transformers.js feeds a
 * pair's types to as they come.
 */
function pairTypeBeyond(tokenizer: TextTokenizer | undefined, has: number | null): { gives: number; has: number } | undefined {
  if (has === null || tokenizer === undefined) return undefined;
  let gives: number;
  try {
    gives = Math.max(-1, ...tokenizer.encode('a', 'b', 16).typeIds);
  } catch {
    return undefined; // (a tokenizer evaluation cannot read or encode with: nothing to say of its types)
  }
  return gives >= has ? { gives, has } : undefined;
}

/**
 * The warning for a folder whose tokenizer's model is a BPE with a continuing_subword_prefix (bpeReadsSubwordPrefix),
 * which transformers.js ignores, one line.
 */
function subwordPrefixNote(folder: string): string {
  return `warning: ${folder}: its tokenizer's BPE model marks the pieces after a word's first with a continuing_subword_prefix, which transformers.js ignores where transformers and compress eval read it: transformers.js splits such words into other ids (classify with compress eval, or give a tokenizer without the prefix)`;
}

/**
 * The warning for a folder whose tokenizer's post-processor gives a special token ids that transformers.js, which looks
 * it up by its text, gives no text of (withSpecialIdsTransformersJsReads writes the others as such texts), one line.
 */
function specialIdsNote(folder: string): string {
  return `warning: ${folder}: its tokenizer's post-processor gives special tokens the ids its tokenizer.json lists (a TemplateProcessing's special_tokens, a BertProcessing's cls and sep), and transformers.js, which gives a special token the id of its text, has no text of some of them (an id past its vocabulary, a piece listed twice): transformers.js gives such a token its text's id (the unknown token where it is none) where transformers and compress eval give the ids listed (classify with compress eval, or give them ids of the vocabulary)`;
}

/**
 * The contents of tokenizer.json `json`'s added tokens marked single_word, which tokenizers finds only as a word of its
 * own (added_vocabulary.rs) and @huggingface/tokenizers (transformers.js) wherever the text holds it.
 */
function singleWordTokens(json: object): string[] {
  const added = (json as { added_tokens?: unknown }).added_tokens;
  if (!Array.isArray(added)) return [];
  return added.flatMap((a) => (a !== null && typeof a === 'object' && a.single_word === true && typeof a.content === 'string' ? [a.content as string] : []));
}

/**
 * The warning for a folder whose tokenizer's decoder Replaces hold a (?i:…) group that transformers.js folds otherwise
 * than tokenizers (`regexes`: decoderFoldsOtherwise's), one line: ids are alike, decoded text may not be.
 */
function decoderFoldNote(folder: string, regexes: readonly string[]): string {
  const named = someNames(
    regexes.map((r) => quotedText(r)),
    3,
  );
  return `warning: ${folder}: its tokenizer's decoder ${plural(regexes.length, 'Replace')} of ${named} ${plural(regexes.length, 'folds', 'fold')} case in (?i:…), where transformers.js folds ASCII letters alone and tokenizers' Oniguruma folds past them (é with É, ſ with s, ß with ss): ids are alike, but transformers.js's decode() may give other text than transformers' (write the group's cases out, as [éÉ])`;
}

/** The warning for a folder whose tokenizer has added tokens marked single_word (`tokens`, their contents), which transformers.js ignores, one line. */
function singleWordNote(folder: string, tokens: readonly string[]): string {
  const named = someNames(
    tokens.map((t) => quotedText(t)),
    4,
  );
  return `warning: ${folder}: its tokenizer's added ${plural(tokens.length, 'token')} ${named} ${isAre(tokens.length)} single_word, which transformers.js ignores where transformers and compress eval read it: transformers.js also finds such a token inside a word and gives other ids there (classify with compress eval, or give a tokenizer without single_word)`;
}

/**
 * The warning for a folder whose tokenizer has a TemplateProcessing template tokenizers fails on (`problem`:
 * templateProblem's, naming the texts it fails on), one line: transformers.js encodes those texts all the same.
 */
function brokenTemplateNote(folder: string, problem: string): string {
  return `warning: ${folder}: its tokenizer.json's ${problem}; transformers.js encodes those texts all the same, where transformers fails on them and compress eval refuses them: classify with it only the texts tokenizers reads (or mend the template)`;
}

/**
 * The warning for a folder whose tokenizer's added tokens of normalized false transformers.js also finds in a text its
 * normalizer turns into them (`found`: addedFoundNormalized's), one line.
 */
function addedNormalizedNote(folder: string, found: readonly AddedFoundNormalized[]): string {
  const named = someNames(
    found.map(({ token, text }) => `${quotedText(token)} (in ${quotedText(text)})`),
    3,
  );
  const one = found.length === 1;
  return `warning: ${folder}: its tokenizer's added ${plural(found.length, 'token')} ${named} ${isAre(found.length)} normalized false, which transformers and compress eval find only in the text as written, where transformers.js also reads a text its normalizer turns into ${one ? "the token's" : "a token's"} content as the token and gives other ids there (classify such texts with compress eval)`;
}

/**
 * The warning for a folder whose tokenizer's model lacks its unk_token in its vocabulary (missingUnkToken), one line:
 * tokenizers fails on a text holding a piece the vocabulary lacks and compress eval refuses it, where transformers.js
 * gives it no id or an added unknown token's.
 */
function missingUnkNote(folder: string, { type, unk }: { type: string; unk: string }): string {
  return `warning: ${folder}: its tokenizer's ${type} model's unk_token ${quotedText(unk)} is not in its vocabulary: transformers fails on a text holding a piece the vocabulary lacks and compress eval refuses it, where transformers.js reads it otherwise (no id, which it fails on with an error of its own, or the id of an added ${quotedText(unk)}, which the model's word embedding may lack): classify with it only texts its vocabulary spells (or add ${quotedText(unk)} to the vocabulary)`;
}

/** The warning for a folder whose model has no row for the token type its tokenizer gives a pair's second text, one line. */
function pairTypeNote(folder: string, { gives, has }: { gives: number; has: number }): string {
  return `warning: ${folder}: its model has ${counted(has, 'token type')} (type_vocab_size ${has}) but its tokenizer gives a sentence pair's second text type ${gives}: transformers.js fails on a pair (text_pair) in the model's Gather; classify single texts with it (compress eval and train refuse pair tasks for it)`;
}

/**
 * The warning for a folder whose tokenizer's model fuses unknown pieces where transformers.js fuses them across words
 * (fusesUnknownsInTransformersJs), one line.
 */
function fusedUnknownsNote(folder: string): string {
  return `warning: ${folder}: its tokenizer's model fuses a run of unknown pieces into one unknown token, which transformers.js does across words where transformers and compress eval do within a word only: a text with unknown words side by side can get fewer ids in transformers.js (its vocabulary has no lone ▁ piece, or its pre-tokenizer does not start every word with one)`;
}

/**
 * The warning for a folder whose tokenizer's model is a Unigram of byte_fallback true holding byte pieces (unigramByteFallbackOf), which
 * transformers.js reads without it, one line.
 */
function byteFallbackNote(folder: string): string {
  return `warning: ${folder}: its tokenizer's Unigram model has byte_fallback, which transformers.js ignores: a piece its vocabulary lacks (é, an emoji) is the unknown token in transformers.js, where transformers and compress eval give the byte pieces of its UTF-8 bytes (<0xC3> <0xA9>)`;
}

/**
 * The warning for a folder whose tokenizer's normalizer holds a Precompiled (a SentencePiece model's charsmap), which
 * transformers.js applies as NFKC whatever the charsmap says, one line.
 */
function precompiledNote(folder: string): string {
  return `warning: ${folder}: its tokenizer's Precompiled normalizer normalizes by its charsmap in transformers and compress eval, where transformers.js applies NFKC (and its own rules for spaces and control characters) whatever the charsmap says: a text the two normalize otherwise (a tab, 'ﬁ' or '①' under a charsmap that maps none of them; a few characters under sentencepiece's nmt_nfkc, which NFKC mostly follows) can get other ids in transformers.js`;
}

/**
 * The source's config.json for transformers.js: its shape fields read from `model` (src/eval/output-config.ts),
 * `model_type` filled in when absent (from the graph's family), the head's class and labels as transformers saves
 * them (headConfigFields: a plain export whose head was seeded names them the same way), and the folder's default
 * dtype in `transformers.js_config` (withDefaultDtype). `width`: the model's scores per example, as evaluation reads
 * them (graphFacts' scoreWidth: the scores output's declared width, else the discovered classifier's label count);
 * default the declared width alone.
 */
export function transformersJsConfig(
  config: Record<string, unknown>,
  file: string,
  model: Model,
  family: ModelFamily,
  defaultDtype: TransformersJsDtype,
  name: string,
  head?: HeadKind,
  width: number | null = scoresOutput(model).width,
): Record<string, unknown> {
  const parsed = parseModelConfig(config, file);
  checkConfigLabels(parsed, width, name);
  checkModelType(config, file);
  const out: Record<string, unknown> = outputModelConfig(config, model).config; // the shape fields from the graph
  out.model_type = typeof config.model_type === 'string' ? config.model_type : FAMILY_MODEL_TYPES[family];
  Object.assign(out, headConfigFields(config, family, head, width ?? parsed.numLabels, name));
  return withDefaultDtype(out, defaultDtype);
}

/**
 * Refuses, in one line naming the key, a source config.json (`config`, read from `file`) whose model_type is a string of
 * no family a transformers.js folder is written of (CLASSIFIER_ARCHITECTURES' types: a typo "bertt", "BERT", another
 * library's name "megatron-bert"): the folder's config.json would name it, and transformers.js' pipeline fails on a
 * type it does not know ('Unsupported model type: bertt'), where the folder was written. None (the graph's family's
 * type is written) and those types pass.
 */
function checkModelType(config: Record<string, unknown>, file: string): void {
  const type = config.model_type;
  if (typeof type !== 'string' || Object.hasOwn(CLASSIFIER_ARCHITECTURES, type)) return;
  const refusal = choiceRefusal('model_type', type, Object.keys(CLASSIFIER_ARCHITECTURES), {
    from: 'file',
    note: '(those a transformers.js folder is written of)',
  });
  throw new SettingsError(
    `--format transformers.js: ${file}: ${refusal}: the folder's config.json would name it, and transformers.js loads no model of a type it does not know ('Unsupported model type: ${type}'); write the model's type`,
  );
}

/**
 * `out` (outputModelConfig's, whose `transformers.js_config` names none of the source's files) with that section
 * naming the folder's default dtype, fp32 included: transformers.js 4.3 takes a config without one to mean its
 * device's default, which in a browser (device wasm) is q8 (`DEFAULT_DEVICE_DTYPE_MAPPING`, src/utils/dtypes.js),
 * so a float folder's pipeline() looked for onnx/model_quantized.onnx there.
 */
function withDefaultDtype(out: Record<string, unknown>, defaultDtype: TransformersJsDtype): Record<string, unknown> {
  const current = out[TRANSFORMERS_JS_CONFIG];
  out[TRANSFORMERS_JS_CONFIG] = { ...(current && typeof current === 'object' && !Array.isArray(current) ? current : {}), dtype: defaultDtype };
  return out;
}

/**
 * tokenizer_config.json for transformers.js, which reads the special tokens only from there (not from
 * special_tokens_map.json): the merged config evaluation reads, its special tokens by name, with the pad token named
 * when the source leaves it implicit, `model_max_length` (transformers.js's truncation length) capped at config.json's
 * `max_length` (the length evaluation truncates to) and at the position table, and `tokenizer_class` `tokenizerClass`
 * (the class transformers' AutoTokenizer loads: a SentencePiece model's family's, else config.json's tokenizer_class,
 * else the class of config.json's model_type) when the source's tokenizer_config.json names none: transformers.js picks the class from there alone, and its base class, without one, returns no token_type_ids,
 * so the model read a sentence pair's second segment as token type 0. And `do_lower_case`, `strip_accents` and
 * `tokenize_chinese_chars` as `tokenizer`'s BertNormalizer has them (writtenNormalizerSettings) where the folder
 * written would otherwise be read with another one.
 */
export function transformersJsTokenizerConfig(
  config: TokenizerConfigJson,
  tokenizer: Record<string, unknown>,
  maxLength: number | null,
  maxPositions: number | null,
  tokenizerClass: string,
): Record<string, unknown> {
  // (without the slow tokenizers' options that evaluation, tokenizers and transformers' fast tokenizers do not apply
  // and transformers.js does, SLOW_ONLY_CONFIG_KEYS: remove_space trimmed and collapsed the text's whitespace, an
  // ALBERT text ending in a space one id shorter than evaluation's; do_lowercase_and_remove_accent lower-cased a cased
  // tokenizer's text)
  const out: Record<string, unknown> = withoutSlowOnlyOptions(config);
  if (typeof out.tokenizer_class !== 'string' || typesLostInTransformersJs(config, out.tokenizer_class, tokenizerClass)) out.tokenizer_class = tokenizerClass;
  // (special tokens by name: transformers.js reads one written as an object only with __type 'AddedToken' and throws
  // 'Unknown token: [object Object]' on another, such as special_tokens_map.json's {content, lstrip, …}, where
  // transformers saves them; their flags are in tokenizer.json's added tokens)
  for (const [key, v] of Object.entries(out)) if (key.endsWith('_token') && v !== null && typeof v === 'object') out[key] = tokenName(v) ?? v;
  if (Array.isArray(out.additional_special_tokens)) out.additional_special_tokens = out.additional_special_tokens.map((v: unknown) => tokenName(v) ?? v);
  const vocab = ((tokenizer.model as { vocab?: unknown } | undefined)?.vocab ?? {}) as Record<string, unknown>;
  const known = (t: string) => (Array.isArray(vocab) ? vocab.some((e) => Array.isArray(e) && e[0] === t) : t in vocab);
  for (const [key, candidates] of [
    ['pad_token', ['[PAD]', '<pad>']],
    ['unk_token', ['[UNK]', '<unk>']],
    ['cls_token', ['[CLS]', '<s>']],
    ['sep_token', ['[SEP]', '</s>']],
    ['mask_token', ['[MASK]', '<mask>']],
  ] as const) {
    if (out[key] === undefined) {
      const found = candidates.find(known);
      if (found) out[key] = found;
    }
  }
  const length = transformersJsMaxLength(config, maxLength, maxPositions);
  if (length !== undefined) out.model_max_length = length;
  else delete out.model_max_length;
  return { ...out, ...writtenNormalizerSettings(withNormalizerClassLoads(tokenizer, String(out.tokenizer_class)), out) };
}

/**
 * The tokenizer classes transformers.js (3.x, 4.x) returns token_type_ids of (their `return_token_type_ids = true`);
 * it reads a class it lacks (FunnelTokenizer, LayoutLMTokenizer, BertJapaneseTokenizer …) as its base class,
 * PreTrainedTokenizer, which returns none.
 */
const TRANSFORMERS_JS_TYPED_CLASSES = new Set([
  'AlbertTokenizer',
  'BertTokenizer',
  'ConvBertTokenizer',
  'DebertaV2Tokenizer',
  'DebertaTokenizer',
  'ElectraTokenizer',
  'HerbertTokenizer',
  'MobileBertTokenizer',
  'RoFormerTokenizer',
  'SqueezeBertTokenizer',
  'XLMTokenizer',
]);

/**
 * Whether a source's tokenizer_class `named`, of no family the project reads (PreTrainedTokenizerFast, FunnelTokenizer,
 * LayoutLMTokenizer …), is one transformers.js returns no token_type_ids of (TRANSFORMERS_JS_TYPED_CLASSES) where
 * evaluation (as transformers) gives a pair's second text the template's type (`config`'s model_input_names naming
 * them, or none) and the class of the model's type (`modelTypeClass`: BERT's, ELECTRA's, ALBERT's) returns them in
 * transformers.js: that class is written instead, so that transformers.js feeds the model eval's types (it fed zeros).
 */
function typesLostInTransformersJs(config: TokenizerConfigJson, named: string, modelTypeClass: string): boolean {
  const name = named.replace(/Fast$/, '');
  const projectClasses = Object.values(CLASSIFIER_ARCHITECTURES).map((c) => c.replace(/ForSequenceClassification$/, 'Tokenizer'));
  return (
    !projectClasses.includes(name) &&
    !TRANSFORMERS_JS_TYPED_CLASSES.has(name) &&
    returnsTokenTypes('', config, named) !== false &&
    returnsTokenTypes('', {}, modelTypeClass) === true
  );
}

/**
 * The do_lower_case, strip_accents and tokenize_chinese_chars that the tokenizer_config.json written (`out`) must say
 * for the folder's tokenizer.json BertNormalizer (`tokenizer`'s: as evaluation read the source) to be read as it is
 * (transformers' BERT-family fast tokenizers rebuild it of them, withConfigNormalizer): its own three where `out`'s
 * class or settings would read it otherwise (a source of a class that rebuilds none, BertJapaneseTokenizer named in
 * config.json or none known, written as the model type's BertTokenizer, which lower-cases a cased file); none where
 * they read it as it is, or its normalizer is no BertNormalizer.
 */
function writtenNormalizerSettings(tokenizer: Record<string, unknown>, out: Record<string, unknown>): Record<string, unknown> {
  const norm = tokenizer.normalizer as Record<string, unknown> | null | undefined;
  if (norm?.type !== 'BertNormalizer') return {};
  const className = typeof out.tokenizer_class === 'string' ? out.tokenizer_class : undefined;
  try {
    if (withConfigNormalizer(tokenizer, out as TokenizerConfigJson, className) === tokenizer) return {};
  } catch {
    // (settings of the source's that the class written cannot build a normalizer of: written as the file's)
  }
  return { do_lower_case: norm.lowercase, strip_accents: norm.strip_accents ?? null, tokenize_chinese_chars: norm.handle_chinese_chars };
}

/**
 * The model_max_length --format transformers.js writes (transformers.js's truncation length): the tokenizer_config.json
 * `config`'s, read as evaluation reads it (a whole number of ids, else none), capped at config.json's max_length
 * (`maxLength`, the length evaluation truncates to) and at the position table (`maxPositions`); undefined where none
 * of them gives one. One that leaves no room for text, 0 or below too, is refused before any work (checkLengthRoom).
 */
function transformersJsMaxLength(config: TokenizerConfigJson, maxLength: number | null, maxPositions: number | null): number | undefined {
  const length = Math.min(modelMaxLengthOf(config) ?? Infinity, maxLength ?? Infinity, maxPositions ?? Infinity);
  return Number.isFinite(length) ? length : undefined;
}

/** The files under `dir`, relative, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, join(prefix, e.name)) : [join(prefix, e.name)]))
    .sort();
}

/**
 * Runs passes one after another. Before each pass the structure is discovered afresh on the current model, so
 * passes compose in any order (and across commands: a pass's output is an ordinary exporter graph to the next).
 */
import type { Model } from '../onnx/graph.ts';
import { modelSize, type ModelSize } from '../onnx/size.ts';
import { rewriteBlocker } from '../onnx/fidelity.ts';
import { findBert } from '../bert/discover.ts';
import { inlineLocalFunctions } from '../onnx/inline.ts';
import type { BertStructure } from '../bert/structure.ts';
import type { ParsedStep, PassContext, PassReport, PassStep } from './pass.ts';
import { getPass, passNames } from './registry.ts';
import { choiceRefusal, SettingsError, quotedText, valueAndKind, UserError, madeModelRefusal } from '../errors.ts';
import { requireClassifier } from './measure.ts';
import { checkModelArg } from '../library-args.ts';
import { RECURRENT_MODEL, recurrentModelLstm } from '../bert/recurrent.ts';
import { recurrentRefusal } from './recurrent.ts';
import { stepName, structureShape } from './pass.ts';
import { type RatioSoFar, ratioSoFarAfter, shareAfterRatioSoFar } from '../share/after-ratio.ts';
import { sharingGroups } from '../prune/sharing.ts';
import { stepRefusal } from './option-names.ts';

export interface PipelineResult {
  model: Model;
  /** Structure of the final model. */
  structure: BertStructure;
  /** Structure of the input model. */
  inputStructure: BertStructure;
  /** The steps as they ran: canonical settings and pass versions (what lineage records). */
  steps: ParsedStep[];
  reports: PassReport[];
  before: ModelSize;
  after: ModelSize;
}

/** Parses every step's settings up front, so a bad flag fails before any work is done. */
export function parseSteps(steps: readonly PassStep[]): Array<{ step: ParsedStep; options: unknown }> {
  // (the library's steps, whose types a JavaScript caller can miss: ['prune-ffn'], or none at all)
  if (!Array.isArray(steps)) throw new SettingsError(`steps: expected a list of {pass, settings}, got ${valueAndKind(steps)}`);
  for (const [i, raw] of steps.entries()) {
    if (typeof raw !== 'object' || raw === null || typeof (raw as Partial<PassStep>).pass !== 'string')
      throw new SettingsError(`steps[${i}]: expected {pass, settings}, got ${valueAndKind(raw)}`);
    // (named as the step's, as a sweep file's is, where getPass's refusal said 'pass: expected one of …' of no step)
    const known = passNames();
    if (known.length && !known.includes((raw as PassStep).pass))
      throw new SettingsError(choiceRefusal(`steps[${i}].pass`, (raw as PassStep).pass, known, { from: 'code' }));
    // (named as the step's, where the pass's schema said 'optimize: Invalid input: expected object, received
    // undefined', naming no step)
    const settings = (raw as Partial<PassStep>).settings;
    if (settings === undefined) throw new SettingsError(`steps[${i}].settings: missing (an object of the pass's settings; {} for its defaults)`);
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
      throw new SettingsError(`steps[${i}].settings: expected an object of the pass's settings ({} for its defaults), got ${valueAndKind(settings)}`);
  }
  return steps.map((raw) => {
    try {
      const pass = getPass(raw.pass);
      const settings = pass.check(raw.settings);
      return { step: { pass: pass.name, version: pass.version, settings }, options: pass.options(settings) };
    } catch (e) {
      throw stepRefusal(raw, e);
    }
  });
}

/**
 * The result of a pipeline's first `length` steps, kept by one run for another that starts with the same steps on the
 * same input (a transformers.js folder's float and quantized models): the second run starts where the first left
 * off instead of running those passes again. Filled by the first run that reaches `length` steps.
 */
export interface SharedPrefix {
  readonly length: number;
  result?: { steps: ParsedStep[]; model: Model; structure: BertStructure; reports: PassReport[] };
}

const sameSteps = (a: readonly ParsedStep[], b: readonly ParsedStep[]) => JSON.stringify(a) === JSON.stringify(b);

export async function runPipeline(input: Model, steps: readonly PassStep[], context: PassContext = {}, prefix?: SharedPrefix): Promise<PipelineResult> {
  checkModelArg('runPipeline', input);
  // (a model calling its local functions (torch's dynamo exporter's): the passes read and write it inlined, a plain graph)
  const model = inlineLocalFunctions(input);
  const parsed = parseSteps(steps);
  const blocker = parsed.length ? rewriteBlocker(model) : undefined;
  if (blocker) throw new UserError(`cannot rewrite this model faithfully: ${blocker}`);
  if (parsed.length && recurrentModelLstm(model)) {
    checkRecurrentSteps(model, steps, parsed);
    throw new SettingsError(`runPipeline: the model is ${RECURRENT_MODEL}, which has no encoder structure to return: compressFile writes it quantized`);
  }
  const inputStructure = findBert(model);
  // No pass gives a model a classifier: one that measures a loss on the class scores is refused before any runs.
  for (const [i, { step }] of parsed.entries()) {
    const need = getPass(step.pass).needsClassifier(step.settings);
    try {
      if (need) requireClassifier(model, inputStructure, step.pass, need, context.calibration);
    } catch (e) {
      throw stepRefusal(steps[i]!, e);
    }
  }
  const uneven = checkShareAfterRatio(inputStructure, steps, parsed);
  let current = model;
  let structure = inputStructure;
  const reports: PassReport[] = [];
  let start = 0;
  const kept = prefix?.result;
  if (
    kept &&
    prefix.length <= parsed.length &&
    sameSteps(
      kept.steps,
      parsed.slice(0, prefix.length).map((p) => p.step),
    )
  ) {
    current = kept.model;
    structure = kept.structure;
    reports.push(...kept.reports);
    start = prefix.length;
    context.log?.(`reusing the first ${start} step(s) of the previous run`);
  }
  // (said by the run whose steps it reuses, which ran the same steps)
  if (uneven && !start) context.warn?.(uneven);
  for (const [i, { step, options }] of parsed.entries()) {
    if (i < start) continue;
    const pass = getPass(step.pass);
    context.log?.(`${pass.name}: running`);
    // (a model holding or computing NaN: a refusal of the input's files at the first step; after it, of a model an
    // earlier step made, which a sweep retries)
    // (the threads of the sessions it opens to measure the model, recorded in its report: PassReport.threads)
    let measured: number | undefined;
    const measuredAt = (threads: number) => {
      measured = threads;
      context.measuredAt?.(threads);
    };
    const res = await pass.run(current, structure, options, { ...context, measuredAt }).catch((e: unknown) => {
      throw stepRefusal(steps[i]!, i > 0 ? madeModelRefusal(e) : e);
    });
    reports.push(measured === undefined ? res.report : { ...res.report, threads: measured });
    context.log?.(`${pass.name}: ${res.report.summary}`);
    current = res.model;
    try {
      structure = findBert(current);
    } catch (e) {
      throw new UserError(`pass ${quotedText(pass.name)} produced a graph that discovery no longer understands: ${(e as Error).message}`, { cause: e });
    }
    if (prefix && !prefix.result && reports.length === prefix.length) {
      prefix.result = { steps: parsed.slice(0, prefix.length).map((p) => p.step), model: current, structure, reports: [...reports] };
    }
  }
  return { model: current, structure, inputStructure, steps: parsed.map((p) => p.step), reports, before: modelSize(model), after: modelSize(current) };
}

/**
 * Refuses, before any pass runs, share-layers after prune-heads by ratio where no choice of the ratio's leaves the
 * layers of each group it joins as many heads (shareAfterRatio), where the pruning (an ablation of hours) ran first and
 * share-layers refused its result; gives the line saying the run fails unless the scores leave them so, where only
 * some choices do. The model so far followed from the input `s` through the steps as a sweep's plan follows it
 * (ratioSoFarAfter, shareAfterRatioSoFar: a drop-layers step between, the heads pruned by list or the layers dropped
 * before the ratio), so that compress and the plan say the same.
 */
function checkShareAfterRatio(s: BertStructure, steps: readonly PassStep[], parsed: ReturnType<typeof parseSteps>): string | undefined {
  let sofar: RatioSoFar = { heads: structureShape(s).heads, shared: sharingGroups(s, 'attention') };
  let numLayers = s.numLayers;
  for (const [i, { step }] of parsed.entries()) {
    const settings = step.settings as Record<string, unknown>;
    let uneven: string | undefined;
    try {
      uneven = step.pass === 'share-layers' ? shareAfterRatioSoFar(settings, sofar, 'the run') : undefined;
    } catch (e) {
      throw stepRefusal(steps[i]!, e);
    }
    if (uneven) return `${stepName(i, 'share-layers')}: ${uneven}`;
    // (settings as they act on the model, as the plan reads them; a step they do not fit is refused by its pass)
    let on: ReturnType<ReturnType<typeof getPass>['onModel']>;
    try {
      on = getPass(step.pass).onModel(settings, { numLayers });
    } catch {
      return undefined;
    }
    if (!on.shape) return undefined;
    try {
      sofar = ratioSoFarAfter(step.pass, on.settings, i, on.shape.numLayers, sofar);
    } catch (e) {
      throw stepRefusal(steps[i]!, e);
    }
    numLayers = on.shape.numLayers;
  }
  return undefined;
}

/**
 * checkShareAfterRatio on `model` before any work (compress's, before its calibration data is read): its refusal, or
 * the warning line where the run fails unless the scores leave the layers share-layers joins as many heads; undefined
 * for a model whose encoder is not read (a recurrent one: its passes say what they take).
 */
export function shareAfterRatioWarning(model: Model, steps: readonly PassStep[]): string | undefined {
  const parsed = parseSteps(steps);
  // (the model is read only where a share-layers step may follow a prune-heads by ratio: discovery takes some 20 ms of
  // a 12-layer graph, on every compress)
  if (!parsed.some(({ step }) => step.pass === 'share-layers') || recurrentModelLstm(model)) return undefined;
  let s: BertStructure;
  try {
    s = findBert(inlineLocalFunctions(model));
  } catch {
    return undefined; // (runPipeline says why)
  }
  return checkShareAfterRatio(s, steps, parsed);
}

/** A pipeline's result on a model with or without a BERT structure (a recurrent model: recurrent.ts). */
export type ModelPipelineResult = Omit<PipelineResult, 'structure' | 'inputStructure'> & Partial<Pick<PipelineResult, 'structure' | 'inputStructure'>>;

/** runPipeline, or on a recurrent model the passes' recurrent forms (Pass.recurrent; no structure then): what compressFile runs. */
export async function runModelPipeline(
  model: Model,
  steps: readonly PassStep[],
  context: PassContext = {},
  prefix?: SharedPrefix,
): Promise<ModelPipelineResult> {
  checkModelArg('runPipeline', model);
  const parsed = parseSteps(steps);
  if (!parsed.length || !recurrentModelLstm(model)) return runPipeline(model, steps, context, prefix);
  checkRecurrentSteps(model, steps, parsed);
  let current = model;
  const reports: PassReport[] = [];
  for (const [i, { step, options }] of parsed.entries()) {
    const pass = getPass(step.pass);
    context.log?.(`${pass.name}: running`);
    const res = await pass.recurrent!.run(current, options, context).catch((e: unknown) => {
      throw stepRefusal(steps[i]!, e);
    });
    reports.push(res.report);
    context.log?.(`${pass.name}: ${res.report.summary}`);
    current = res.model;
  }
  return { model: current, steps: parsed.map((p) => p.step), reports, before: modelSize(model), after: modelSize(current) };
}

/**
 * Refuses, before any pass runs, a step on a recurrent model whose pass has no recurrent form, or whose settings that
 * form refuses (on the input: a pass after another sees the model the first writes).
 */
function checkRecurrentSteps(model: Model, steps: readonly PassStep[], parsed: ReturnType<typeof parseSteps>): void {
  for (const [i, { step }] of parsed.entries()) if (!getPass(step.pass).recurrent) throw stepRefusal(steps[i]!, recurrentRefusal(step.pass));
  const first = parsed[0];
  try {
    getPass(first.step.pass).recurrent!.check(first.options, model);
  } catch (e) {
    throw stepRefusal(steps[0]!, e);
  }
}

/** Refuses, before any work, steps a recurrent model cannot take (nothing for any other model: its passes say). */
export function checkModelSteps(model: Model, steps: readonly PassStep[]): void {
  const parsed = parseSteps(steps);
  if (parsed.length && recurrentModelLstm(model)) checkRecurrentSteps(model, steps, parsed);
}

/**
 * The teacher's intermediate features for intermediate-layer distillation: the values discovery finds in the
 * teacher's graph (any exporter: embeddings output, layer outputs, attention probabilities or scores) exposed as
 * extra graph outputs and computed by onnxruntime on each training batch. Matches are turned into loss terms
 * (losses.ts IntermediateTerm) that name the student's values and the teacher inputs these features feed.
 */
import type { Model } from '../onnx/graph.ts';
import { cloneModel } from '../onnx/graph.ts';
import { encodeModel } from '../onnx/save.ts';
import { findBert } from '../bert/discover.ts';
import { openSession, Tensor, type Feeds, type Session } from '../runtime/session.ts';
import { modelInputs, type ModelInput } from '../eval/model-inputs.ts';
import { SettingsError } from '../errors.ts';
import type { Batch } from './data.ts';
import { checkMatch, featureValue, type IntermediateMatch } from './intermediate.ts';
import type { IntermediateTerm } from './losses.ts';

/** A feature the teacher computes and the input of the training graph it feeds. */
export interface FeatureRequest {
  /** Value name in the teacher's graph. */
  value: string;
  /** Input name in the training graph. */
  input: string;
}

/** Loss terms and teacher requests for `matches` between two discovered models. */
export function intermediatePlan(
  matches: readonly IntermediateMatch[],
  teacher: Model,
  student: Model,
): { terms: IntermediateTerm[]; requests: FeatureRequest[] } {
  const ts = findBert(teacher, { label: 'teacher' });
  const ss = findBert(student, { label: 'student' });
  const ids = student.graph.inputs.find((i) => i.name === 'input_ids')?.shape ?? ['batch_size', 'sequence_length'];
  const [batch, seq] = [ids[0] ?? 'batch_size', ids[1] ?? 'sequence_length'];
  const terms: IntermediateTerm[] = [];
  const requests: FeatureRequest[] = [];
  const byValue = new Map<string, string>();
  matches.forEach((m, i) => {
    checkMatch(m, i, ts.numLayers, ss.numLayers);
    const t = featureValue(ts, teacher.graph, m.feature, m.teacherLayer, 'the teacher');
    const s = featureValue(ss, student.graph, m.feature, m.studentLayer, 'the student');
    let input = byValue.get(t.value);
    if (!input) {
      input = `target.teacher.${m.feature}.${m.teacherLayer}`;
      byValue.set(t.value, input);
      requests.push({ value: t.value, input });
    }
    const attention = m.feature === 'attention' || m.feature === 'attention-scores';
    if (m.loss === 'pkd' || m.loss === 'mse' || m.loss === 'cosine') {
      if (attention) throw new SettingsError(`intermediate match ${i + 1}: ${m.loss} compares hidden states`);
    }
    terms.push({
      kind: m.loss,
      weight: m.weight,
      student: s.value,
      teacher: input,
      teacherDims: attention ? [batch, t.heads!, seq, seq] : [batch, seq, t.width],
      studentWidth: s.width,
      teacherWidth: t.width,
      scores: m.feature === 'attention-scores',
      label: `${i}.t${m.teacherLayer}s${m.studentLayer}.${m.feature}`,
    });
  });
  return { terms, requests };
}

/** The teacher run on training batches, returning the requested features as training-graph feeds. */
export class TeacherFeatures {
  private constructor(
    private readonly session: Session,
    private readonly inputs: ModelInput[],
    private readonly requests: readonly FeatureRequest[],
  ) {}

  static async open(teacher: Model, requests: readonly FeatureRequest[], threads?: number): Promise<TeacherFeatures> {
    const m = cloneModel(teacher);
    m.graph.outputs = requests.map((r) => ({ name: r.value }));
    const session = await openSession(encodeModel(m), { threads });
    return new TeacherFeatures(session, modelInputs(session), requests);
  }

  /** The features of `batch` (ids padded to `seq`), keyed by training-graph input name. */
  async run(batch: Batch): Promise<Feeds> {
    const feeds: Feeds = {};
    for (const i of this.inputs) {
      const src = i.role === 'ids' ? batch.inputIds : i.role === 'mask' ? batch.attentionMask : batch.tokenTypeIds;
      feeds[i.name] = i.elementType === 'int32'
        ? new Tensor('int32', Int32Array.from(src, Number), [batch.size, batch.seq])
        : new Tensor('int64', src, [batch.size, batch.seq]);
    }
    const out = await this.session.run(feeds);
    const result: Feeds = {};
    for (const r of this.requests) result[r.input] = out[r.value];
    return result;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

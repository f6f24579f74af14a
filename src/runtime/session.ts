/**
 * The one place that talks to onnxruntime-node. Every command that runs a model (eval, bench, pass validation)
 * opens sessions here, so threads and optimization level are set the same way everywhere.
 */
import * as ort from 'onnxruntime-node';
import { ModelLoadError, SettingsError, ortErrorLine, valueAndKind } from '../errors.ts';
import { defaultThreads, THREADS_OPTION } from './threads.ts';
import { checkOptionKinds, checkOptions, type OptionKind } from '../library-args.ts';
import { ortLogLevel } from './ort-log-level.ts';
import { halfToFloat } from '../onnx/tensor.ts';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface RuntimeOptions {
  /** Intra-op threads; 0 or undefined: one per physical core (`defaultThreads`). */
  threads?: number;
  /** onnxruntime graph optimization level; default 'all'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * Whether the intra-op threads spin-wait for work (onnxruntime's default, true): between a run's operators, and
   * after the run (~20–35 ms of a core after a 2×256 forward pass, 2 threads). Off for sessions timed against each
   * other in alternation: a pool still spinning after its run slows the other session's next run (a 4×256 forward
   * pass at batch 1 × 64, 2 threads: ~7 ms against ~2.5 alone). 'during runs': between a run's operators only, the
   * threads stopping as the run returns (onnxruntime's session.force_spinning_stop), for a session whose runs take
   * turns with other work (the training graph's with the optimizer's update and an intermediate-KD teacher's run).
   */
  spinning?: boolean | 'during runs';
  /**
   * onnxruntime's session.x64quantprecision: full-range int8 weights of int8 products stored as uint8 + 128, so that
   * x86 CPUs without AVX-512 VNNI / AVX-VNNI add the products in 32 bits as CPUs with it do, not in saturating 16-bit
   * pairs (runtime/int8-products.ts); a level-2 rewrite, so the level is 'extended' at least. Default false.
   */
  x64QuantPrecision?: boolean;
}

export { checkThreads, defaultThreads, MAX_THREADS } from './threads.ts';

/** A named input or output tensor for `Session.run`. */
export type Feeds = Record<string, ort.Tensor>;
/** The outputs `Session.run` fetches: a tensor onnxruntime writes the output into (its shape), or null to allocate it. */
export type Fetches = Record<string, ort.Tensor | null>;

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Element type of each graph input as onnxruntime reports it ('int64', 'int32', 'float32'…). */
  readonly inputTypes: Readonly<Record<string, string>>;
  /** Runs the model on `feeds`, fetching every output, or those named (a list, or `Fetches` with buffers to fill). */
  run(feeds: Feeds, outputs?: readonly string[] | Fetches): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

/** The onnxruntime session options of `opts`: what every session of the project is opened with. */
export function sessionOptions(opts: RuntimeOptions = {}): ort.InferenceSession.SessionOptions {
  const level = opts.graphOptimizationLevel ?? 'all';
  const o: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opts.x64QuantPrecision && (level === 'disabled' || level === 'basic') ? 'extended' : level,
    executionProviders: ['cpu'],
  };
  o.intraOpNumThreads = opts.threads && opts.threads > 0 ? opts.threads : defaultThreads();
  o.interOpNumThreads = 1;
  o.logSeverityLevel = ortLogLevel();
  if (opts.spinning === false) o.extra = { session: { intra_op: { allow_spinning: '0' } } };
  else if (opts.spinning === 'during runs') o.extra = { session: { force_spinning_stop: '1' } };
  if (opts.x64QuantPrecision) o.extra = { ...o.extra, session: { ...(o.extra as { session?: object } | undefined)?.session, x64quantprecision: '1' } };
  return o;
}

/** An external data file onnxruntime reads from memory: `path` as the model's tensors name it, and its bytes. */
export interface InMemoryFile {
  path: string;
  data: Uint8Array;
}

/**
 * Opens an inference session on a model file path or serialized model bytes. A model with external data must be
 * opened by path (onnxruntime finds the `.data` file beside it).
 */
export function openSession(model: string | Uint8Array, opts: RuntimeOptions = {}): Promise<Session> {
  if (typeof model !== 'string' && !(model instanceof Uint8Array))
    return Promise.reject(new SettingsError(`openSession: model: expected a model path or its bytes, got ${valueAndKind(model)}`));
  try {
    checkOptionKinds('openSession', checkOptions('openSession', opts, '{threads, graphOptimizationLevel, spinning, x64QuantPrecision}'), RUNTIME_OPTION_KINDS);
  } catch (e) {
    return Promise.reject(e);
  }
  return openSessionWith(model, opts);
}

/**
 * openSession's options by their kinds (checkOptionKinds), before the session opens: a JavaScript caller's threads
 * 'x' or -1 were read as one per physical core, spinning 'no' as spinning, a misspelt option as nothing, and
 * graphOptimizationLevel 'none' left to onnxruntime's error.
 */
const RUNTIME_OPTION_KINDS = {
  threads: THREADS_OPTION,
  graphOptimizationLevel: ['disabled', 'basic', 'extended', 'all'],
  spinning: { is: (v: unknown) => v === true || v === false || v === 'during runs', expected: "true, false or 'during runs'" },
  x64QuantPrecision: 'boolean',
} as const satisfies Record<keyof RuntimeOptions, OptionKind>;

/**
 * `openSession`, with the model's external data files given in memory (`externalData`: kept referenced, and to be
 * left unchanged, until the session is released), and onnxruntime's profile of its runs written when it is released
 * (`profilePrefix`). Internal: openModelSession's `inPlace` and `profilePrefix`.
 */
export async function openSessionWith(
  model: string | Uint8Array,
  opts: RuntimeOptions,
  externalData?: readonly InMemoryFile[],
  profilePrefix?: string,
): Promise<Session> {
  let s: ort.InferenceSession;
  const options: ort.InferenceSession.SessionOptions = externalData ? { ...sessionOptions(opts), externalData: [...externalData] } : sessionOptions(opts);
  if (profilePrefix !== undefined) Object.assign(options, { enableProfiling: true, profileFilePrefix: profilePrefix });
  try {
    s = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (e) {
    const where = typeof model === 'string' ? model : 'model bytes';
    // (onnxruntime's line begins 'Load model from PATH failed:', the path the message begins with)
    const detail = typeof model === 'string' ? ortErrorLine(e).replace(`Load model from ${model} failed:`, '').trim() : ortErrorLine(e);
    throw new ModelLoadError(`${where}: onnxruntime cannot load the model: ${detail}`, { cause: e });
  }
  const inputTypes: Record<string, string> = {};
  const meta = (s as unknown as { inputMetadata?: Array<{ name: string; type?: string; isTensor?: boolean }> }).inputMetadata;
  if (Array.isArray(meta)) for (const m of meta) if (m.type) inputTypes[m.name] = m.type;
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputTypes,
    run: (feeds, outputs) =>
      (outputs ? s.run(feeds, (Array.isArray(outputs) ? [...outputs] : outputs) as ort.InferenceSession.FetchesType) : s.run(feeds)) as Promise<
        Record<string, ort.Tensor>
      >,
    // (onnxruntime may read the in-memory files' bytes where they are: this closure keeps them while the session is open)
    release: () => s.release().finally(() => externalData),
  };
}

/** Re-exported so callers build tensors without importing onnxruntime themselves. */
export const Tensor = ort.Tensor;
export type Tensor = ort.Tensor;

/**
 * The values of a numeric output as numbers: a float16 output decoded (onnxruntime hands its 16-bit patterns over
 * as a Uint16Array), a float32 one as it is, others converted (an int64 one from its BigInts, so a value beyond
 * 2^24 in magnitude is rounded to float32).
 */
export function floatValues(t: Tensor): Float32Array {
  if (t.type === 'float16' && t.data instanceof Uint16Array) return Float32Array.from(t.data, halfToFloat);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Float32Array.from(t.data, Number);
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** The onnxruntime-node version in use (for bench records). */
export function runtimeVersion(): string {
  return (ort.env as unknown as { versions?: { common?: string } }).versions?.common ?? 'unknown';
}

/**
 * Sessions kept open for reuse, keyed by model path and options: evaluating nine tasks or benchmarking many shapes
 * opens the model once. `close()` releases them all.
 */
export class SessionCache {
  private sessions = new Map<string, Promise<Session>>();

  get(path: string, opts: RuntimeOptions = {}): Promise<Session> {
    const key = `${path}\0${opts.threads ?? 0}\0${opts.graphOptimizationLevel ?? 'all'}\0${opts.spinning ?? true}\0${opts.x64QuantPrecision ?? false}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = openSession(path, opts);
      this.sessions.set(key, s);
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await (await s.catch(() => undefined))?.release();
  }
}

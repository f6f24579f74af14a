/**
 * The special tokens of a tokenizer.json's post-processor written so that transformers.js gives them the ids tokenizers
 * gives: tokenizers gives a TemplateProcessing's special token the ids its special_tokens entry lists
 * (processors/template.rs, apply_template) and a BertProcessing's cls and sep the ids they hold (processors/bert.rs),
 * where @huggingface/tokenizers (and so transformers.js) gives each the id of its text. A special token whose ids are
 * not its text's is written as one piece per id, each a text whose transformers.js id is that id, with a
 * special_tokens entry of that one id, which tokenizers reads as the same ids.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { specialIdsRead } from '../eval/tokenizer.ts';
import { mapSequenceLeaves } from '../eval/tokenizer-sequence.ts';

/** A TemplateProcessing's special_tokens entry. */
interface SpecialTokenEntry {
  id: string;
  ids: number[];
  tokens: string[];
}

/** Whether a special_tokens entry (absent: undefined) gives the one id `id`. */
const ownId = (entry: SpecialTokenEntry | undefined, id: number | undefined): boolean =>
  Array.isArray(entry?.ids) && entry.ids.length === 1 && entry.ids[0] === id;

/** A template's piece: a text (A or B) or a special token, with its token type. */
type TemplatePiece = { Sequence?: { id: string; type_id: number }; SpecialToken?: { id: string; type_id: number } };

/** What @huggingface/tokenizers' Tokenizer (transformers.js's) holds that turns texts into ids (its encode). */
export interface TransformersJsTokenizer {
  added_tokens_map: Map<string, { id: number }>;
  added_tokens: Array<{ id: number; content: string; normalized: boolean }>;
  normalizer: unknown;
  model: { tokens_to_ids: Map<string, number>; unk_token_id?: number; vocab: Array<string | undefined> };
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
}

/**
 * The tokenizer transformers.js builds of tokenizer.json `json` and tokenizer_config.json `config` as written (its
 * @huggingface/tokenizers, unmended); undefined where the library cannot load them.
 */
export function transformersJsTokenizer(json: object, config: Record<string, unknown> = {}): TransformersJsTokenizer | undefined {
  try {
    return new Tokenizer(json as never, config as never) as unknown as TransformersJsTokenizer;
  } catch {
    return undefined;
  }
}

/**
 * The ids transformers.js gives the texts a post-processor adds (`idOf`: its added token's by text, else the model's,
 * else the unknown token's, as @huggingface/tokenizers' encode maps them), and a text it gives the id `id` (`textOf`:
 * the vocabulary's piece of that id or an added token's content of it; undefined where none is given it, a Unigram's
 * piece listed twice under its first id, an id past the vocabulary). Undefined where the library cannot load `json`.
 */
function transformersJsIds(json: object): { idOf: (text: string) => number | undefined; textOf: (id: number) => string | undefined } | undefined {
  const t = transformersJsTokenizer(json);
  if (t === undefined) return undefined;
  const idOf = (text: string) => t.added_tokens_map.get(text)?.id ?? t.model.tokens_to_ids.get(text) ?? t.model.unk_token_id;
  const textOf = (id: number) =>
    [t.model.vocab[id], ...t.added_tokens.filter((a) => a.id === id).map((a) => a.content)].find((p) => p !== undefined && idOf(p) === id);
  return { idOf, textOf };
}

/**
 * tokenizer.json `json` (as written for transformers.js) with its post-processor's special tokens (a TemplateProcessing's,
 * a BertProcessing's cls and sep, alone or in a Sequence) whose ids tokenizers gives otherwise than transformers.js
 * written as the texts transformers.js gives those ids (transformersJsIds): a template's special token of ids [i, j]
 * as two special tokens, of texts t(i) and t(j), each with its entry {id: t(i), ids: [i], tokens: [t(i)]} (none for an
 * entry of no ids), a cls [text, i] as [t(i), i]. One whose ids have no such text is left, and `unmatched` says that
 * transformers.js gives some special token other ids than tokenizers (specialIdsRead of the json written). `json`
 * itself where nothing changes.
 */
export function withSpecialIdsTransformersJsReads(json: Record<string, unknown>): { json: Record<string, unknown>; unmatched: boolean } {
  const unmatchedOf = (written: Record<string, unknown>) => {
    const found = specialIdsRead(written);
    return found.single || found.pair;
  };
  const ids = unmatchedOf(json) ? transformersJsIds(json) : undefined;
  if (ids === undefined) return { json, unmatched: unmatchedOf(json) };
  const { idOf, textOf } = ids;
  /** The texts of `want` (transformersJsIds' textOf), undefined where one has none. */
  const textsOf = (want: readonly number[]): string[] | undefined => {
    const texts = want.map(textOf);
    return texts.every((p) => p !== undefined) ? (texts as string[]) : undefined;
  };
  // (each processor of the post-processor, a Sequence's at any depth, by the one walk of a component's Sequences)
  const post = mapSequenceLeaves(json.post_processor, 'processors', (leaf) => {
    if (leaf.type === 'BertProcessing') {
      const token = (pair: unknown): unknown => {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'number' || idOf(pair[0]) === pair[1]) return pair;
        const text = textOf(pair[1]);
        return text === undefined ? pair : [text, pair[1]];
      };
      const [cls, sep] = [token(leaf.cls), token(leaf.sep)];
      return cls === leaf.cls && sep === leaf.sep ? leaf : { ...leaf, cls, sep };
    }
    return leaf.type === 'TemplateProcessing' ? templateWithTexts(leaf, idOf, textsOf) : leaf;
  });
  if (post === json.post_processor) return { json, unmatched: true };
  const written = { ...json, post_processor: post };
  return { json: written, unmatched: unmatchedOf(written) };
}

/**
 * TemplateProcessing `leaf` with each special token whose entry's ids are not [its text's transformers.js id] (`idOf`)
 * written as the texts of its ids (`textsOf`), one special token of the same type each, and their entries added; an
 * entry a special token left as it is keeps its key (a text's entry that would replace it leaves that token too).
 */
function templateWithTexts(
  leaf: Record<string, unknown>,
  idOf: (text: string) => number | undefined,
  textsOf: (ids: readonly number[]) => string[] | undefined,
): Record<string, unknown> {
  const entries = (leaf.special_tokens ?? {}) as Record<string, SpecialTokenEntry | undefined>;
  const templates = (['single', 'pair'] as const).filter((k) => Array.isArray(leaf[k]));
  /** The texts each special token (by key) is written as: those whose entry gives other ids than its text's. */
  const rewrite = new Map<string, string[]>();
  for (const k of templates) {
    for (const { SpecialToken: s } of leaf[k] as TemplatePiece[]) {
      const entry = s === undefined ? undefined : entries[s.id];
      if (s === undefined || entry === undefined || !Array.isArray(entry.ids) || rewrite.has(s.id)) continue;
      if (ownId(entry, idOf(s.id))) continue;
      const texts = textsOf(entry.ids);
      if (texts !== undefined) rewrite.set(s.id, texts);
    }
  }
  // (a key left as it is, its entry's ids not its text's, cannot also be the entry of a text written for another:
  // that other is left too, until none is)
  for (let changed = true; changed; ) {
    changed = false;
    const kept = new Set(
      templates.flatMap((k) => (leaf[k] as TemplatePiece[]).flatMap(({ SpecialToken: s }) => (s !== undefined && !rewrite.has(s.id) ? [s.id] : []))),
    );
    for (const [key, texts] of rewrite) {
      if (texts.some((t) => kept.has(t) && !ownId(entries[t], idOf(t)))) {
        rewrite.delete(key);
        changed = true;
      }
    }
  }
  if (rewrite.size === 0) return leaf;
  const specialTokens: Record<string, unknown> = { ...entries };
  for (const texts of rewrite.values()) for (const t of texts) specialTokens[t] = { id: t, ids: [idOf(t)], tokens: [t] };
  const out: Record<string, unknown> = { ...leaf, special_tokens: specialTokens };
  for (const k of templates) {
    out[k] = (leaf[k] as TemplatePiece[]).flatMap((piece) => {
      const texts = piece.SpecialToken === undefined ? undefined : rewrite.get(piece.SpecialToken.id);
      return texts === undefined ? [piece] : texts.map((id) => ({ SpecialToken: { id, type_id: piece.SpecialToken!.type_id } }));
    });
  }
  return out;
}

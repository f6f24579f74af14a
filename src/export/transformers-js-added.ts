/**
 * Added tokens of normalized false that transformers.js finds where tokenizers does not: tokenizers looks for such a
 * token in the text as written only (added_vocabulary.rs, split_with_indices), and compress eval as it does, where
 * @huggingface/tokenizers (transformers.js) also takes as the token a stretch of text (between added tokens) that its
 * normalizer turns into the token's content: 'TOK' under a Lowercase normalizer is the added token 'tok' there.
 */
import type { TextTokenizer } from '../eval/tokenizer.ts';
import { transformersJsTokenizer } from './transformers-js-special-ids.ts';

/** An added token (its content) transformers.js finds in `text`, a text of other characters. */
export interface AddedFoundNormalized {
  token: string;
  text: string;
}

/** ASCII's printable characters as their fullwidth forms (U+FF01–U+FF5E), which NFKC turns back into them. */
const fullwidth = (text: string): string => text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/**
 * Texts other than `content` (none holding it, where both read it as written) that a normalizer may turn into it: its
 * upper, lower and title cases (a Lowercase), its composed and decomposed forms (NFC, NFD), its fullwidth form (NFKC).
 */
function otherForms(content: string): string[] {
  const forms = [
    content.toUpperCase(),
    content.toLowerCase(),
    content.charAt(0).toUpperCase() + content.slice(1),
    content.normalize('NFC'),
    content.normalize('NFD'),
    fullwidth(content),
  ];
  return [...new Set(forms)].filter((f) => f !== '' && !f.includes(content));
}

/**
 * The added tokens of normalized false in tokenizer.json `json` (with tokenizer_config.json `config`, as written for
 * transformers.js) that transformers.js finds in a text of other characters its normalizer turns into the token's
 * content (otherForms), where `ours` (evaluation's reading of the same folder, as tokenizers reads it) does not: each
 * with the first such text. Shown by the ids: transformers.js gives the text more of the token's id than `ours` does
 * (its special tokens set apart). None where either cannot load or encode the folder.
 */
export function addedFoundNormalized(json: object, config: Record<string, unknown>, ours: TextTokenizer | undefined): AddedFoundNormalized[] {
  const theirs = ours === undefined ? undefined : transformersJsTokenizer(json, config);
  if (ours === undefined || theirs === undefined || theirs.normalizer === null) return [];
  const count = (ids: readonly number[], id: number) => ids.filter((i) => i === id).length;
  const found: AddedFoundNormalized[] = [];
  /** The ids of `text` by `encode`; undefined where it fails (a text either refuses: nothing to say of it). */
  const idsOf = (encode: () => readonly number[]): readonly number[] | undefined => {
    try {
      return encode();
    } catch {
      return undefined;
    }
  };
  const specials = idsOf(() => ours.encode('', null, Number.MAX_SAFE_INTEGER).ids);
  if (specials === undefined) return [];
  for (const { content, id, normalized } of theirs.added_tokens) {
    if (normalized) continue;
    const text = otherForms(content).find((form) => {
      const read = idsOf(() => ours.encode(form, null, Number.MAX_SAFE_INTEGER).ids);
      const given = idsOf(() => theirs.encode(form, { add_special_tokens: false }).ids);
      return read !== undefined && given !== undefined && count(given, id) > count(read, id) - count(specials, id);
    });
    if (text !== undefined) found.push({ token: content, text });
  }
  return found;
}

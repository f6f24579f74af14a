/**
 * Versions of how eval, calibration and training read a tokenizer folder into ids and token types, as each pass has its
 * own (PassDeclaration.version): a change that gives some tokenizers other ids or token types adds a version here,
 * with what it touched (`changed`), so that sweep points computed with the older reading of such a tokenizer are
 * stale (src/sweep/key.ts), while points of tokenizers it did not touch keep their keys. A tokenizer's reading version
 * is the last version whose change touched it, 1 where none did: the reading of stores written before tokenizers had
 * versions, whose keys hold none.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { keptSha256Sync } from '../files.ts';
import { sideFilesKeeper, sideFilesRead } from './model-files.ts';
import { tokenizerTraits, type TokenizerTraits } from './tokenizer.ts';

/** Each version after 1: whether its change gives a tokenizer of `traits` other ids or types (`pairs`: read on sentence pairs). */
export const TOKENIZER_READINGS: ReadonlyArray<{ version: number; changed: (traits: TokenizerTraits, pairs: boolean) => boolean }> = [
  // Stops 44 and 45: added tokens read as tokenizers reads them (no WordPiece pieces, matched before the model's ids,
  // single_word and normalized honoured, ids re-derived on loading, a config's missing special tokens added; slow
  // folders' added tokens), and a pair joined as tokenizers joins it after RobertaProcessing (types 0), ByteLevel or no
  // post-processor (both texts, the second type 1).
  { version: 2, changed: (t, pairs) => t.addedTokens || (pairs && t.pairTemplate) },
  // Stop 46: ALBERT's number-comma rule lowers a piece whose comma follows any digit Python's str.isdigit takes ('²,',
  // where \p{Nd} alone was taken), and a folder holding both SentencePiece models reads its family's own (an ALBERT
  // one read sentencepiece.bpe.model), and a Metaspace pre-tokenizer splits before each ▁ as tokenizers' does. (Folders
  // read now that were refused before had no points to mark.) And a tokenizer_config.json's remove_space true no longer
  // trims and collapses the text's whitespace, which tokenizers never does.
  { version: 3, changed: (t) => t.albertDigitComma || t.otherSentencePiece || t.metaspaceSplit || t.removeSpace },
  // Stop 47: a tokenizer_config.json's do_lowercase_and_remove_accent true (XLMTokenizer's, a slow tokenizer's option)
  // no longer lower-cases the text, which tokenizers and transformers' fast tokenizers never do; a model that fuses
  // unknown pieces (Unigram, BPE with fuse_unk) fuses them within a pre-token only, as tokenizers does.
  { version: 4, changed: (t) => t.lowercaseRemoveAccent || t.unknownsAcrossPreTokens },
  // Stop 48: a Metaspace of prepend_scheme first puts its ▁ before the pre-token that starts the text alone, as
  // tokenizers does, where every word after a WhitespaceSplit (or the text after a normalized added token, or after a
  // first character the normalizer drops) got one. And a pair's tokens are all of type 0 where the class transformers
  // loads the tokenizer as returns no token types (RoBERTa's, DistilBERT's …, or model_input_names without them), as the
  // model computes without them, where eval and training fed the template's (a BERT template's second text type 1).
  // And a Punctuation pre-tokenizer splits as tokenizers' of its behavior (Isolated where none is written: each
  // punctuation character alone), where a run of punctuation was one pre-token whatever the behavior. And an XLM or
  // FlauBERT folder of vocab.json and merges.txt is refused, where it was read as byte-level BPE: its points are stale
  // (recomputed with --rerun-stale, which fails saying to give a tokenizer.json). Since stop 54 the types mark also sees a template within a
  // Sequence within a Sequence (tokenizers applies it alike), which it missed: such a tokenizer's points keyed below 5
  // go stale once.
  { version: 5, changed: (t, pairs) => t.metaspaceFirst || (pairs && t.typesNotReturned) || t.punctuationSplit || t.slowOnlyBpe },
  // Stop 49: a Whitespace pre-tokenizer's words are the regex crate's Unicode ones, as tokenizers reads `\w+|[^\w\s]+`,
  // where they were JS's ASCII ones ('café' split as caf, é); a Digits pre-tokenizer's digits are Unicode's numbers
  // (char::is_numeric: '²', 'Ⅻ', '٣'), where they were ASCII digits.
  { version: 6, changed: (t) => t.wordOrDigitSplit },
  // Stop 49: a BertPreTokenizer or WhitespaceSplit behind no normalizer cleaning the text splits on White_Space, as
  // tokenizers' char::is_whitespace, where it split on JS's \s (U+FEFF splitting a word, U+0085 not).
  { version: 7, changed: (t) => t.unicodeWhitespaceSplit },
  // Stop 49: a Split's or Replace's regex read `\w`, `\W`, `\b`, `\B` outside a class as Oniguruma's word class
  // within one, where ², ³, ¹, ¼, ½ and ¾ were word characters there (wrongly: version 9 undoes it).
  { version: 8, changed: (t) => t.wordEscapeOutsideClass },
  // Stop 50: such a regex reads ², ³, ¹, ¼, ½ and ¾ as word characters outside a class again, as tokenizers' Oniguruma
  // does (its ctype table below U+0100) and @huggingface/tokenizers did before version 8: version 8's points are stale.
  // And a Strip normalizer (DeBERTa-v3's, SentencePiece converters') strips White_Space, as tokenizers' lrstrip, where it
  // trimmed JS's whitespace (a QQP dev text ends in U+FEFF, which it dropped).
  { version: 9, changed: (t) => t.wordEscapeOutsideClass || t.whiteSpaceStrip },
  // Stop 50: a Split of behavior MergedWithPrevious, MergedWithNext or Contiguous, or inverted (but Removed), or Removed
  // of a String or of a Regex with groups splits as tokenizers does, where @huggingface/tokenizers read the first three
  // as Isolated, inverted as the matches kept, and Removed keeping the delimiters or what the groups captured. And a
  // ByteLevel's regex (RoBERTa's, GPT-2's) reads `\s` as White_Space, as Oniguruma does, where JS's `\s` took U+FEFF as
  // a space (a QQP dev text holds one) and not U+0085: every byte-level BPE tokenizer's points go stale.
  { version: 10, changed: (t) => t.splitBehavior || t.byteLevelRegex },
  // Stop 51: a tokenizer.json whose pre-tokenizer is a ByteLevel, loaded as RobertaTokenizer or GPT2Tokenizer, prepends
  // a space as tokenizer_config.json's add_prefix_space says (false where it says nothing), as transformers loads it,
  // where the file's own was read.
  { version: 11, changed: (t) => t.configPrefixSpace },
  // Stop 51: a Split's or Replace's `(?i:…)` group of plain ASCII text folds s with ſ and k with K, as Oniguruma does,
  // where @huggingface/tokenizers folded ASCII letters alone (other such groups are refused). And a FixedLength
  // pre-tokenizer cuts characters (5 where its length is absent), where it cut UTF-16 units (one empty piece without one).
  { version: 12, changed: (t) => t.caseFoldWidened || t.fixedLength },
  // Stop 51: a post-processor is read as the type whose fields tokenizers reads (its untagged PostProcessorWrapper): a
  // RobertaProcessing without trim_offsets or add_prefix_space as a BertProcessing (a pair's second text type 1, one
  // separator between), a BertProcessing holding both as a RobertaProcessing, where the type it says was read.
  { version: 13, changed: (t) => t.processorRetyped },
  // Stop 51: a model is read as its type alone (a WordLevel holding a continuing_subword_prefix, which
  // @huggingface/tokenizers read as a WordPiece), one of no type as tokenizers' first type whose fields read (BPE,
  // WordPiece, WordLevel, Unigram), where @huggingface/tokenizers picked one by its fields (a model of no type whose
  // reading did not change is marked too).
  { version: 14, changed: (t) => t.modelRetyped },
  // Stop 52: a Unigram model of byte_fallback true gives an unknown piece as the byte pieces of its UTF-8 bytes where
  // its vocabulary holds them all, as tokenizers does, where the unknown token was read.
  { version: 15, changed: (t) => t.unigramByteFallback },
  // Stop 52: a BPE model's continuing_subword_prefix is read as tokenizers reads it (each character after a word's first
  // looked up with it, a merge (a, ##b) making ab), where @huggingface/tokenizers ignored it.
  { version: 16, changed: (t) => t.subwordPrefixBpe },
  // Stop 52: a TemplateProcessing's special token is the ids its special_tokens entry lists (several where it lists
  // several), a BertProcessing's cls and sep the ids they hold, as tokenizers gives them, where their texts' ids were
  // read (the unknown token where the text is no token).
  { version: 17, changed: (t, pairs) => t.specialIds.single || (pairs && t.specialIds.pair) },
  // Stop 52: a text is tokenized once and then the post-processor applied, as tokenizers does, where a TemplateProcessing's
  // single template of no Sequence A, or of two, was applied to each text before the template too (emptied or repeated).
  { version: 18, changed: (t, pairs) => t.singleTemplateA.single || (pairs && t.singleTemplateA.pair) },
  // Stop 52: an added token of normalized true is found by its content as the normalizer gives it, as tokenizers finds
  // it, where @huggingface/tokenizers' normalizing of it was read (a Lowercase's 'ΟΣ' as 'ος', never found where the
  // text lower-cases to 'οσ', and a model's piece 'ος' read as the token).
  { version: 19, changed: (t) => t.addedTokensRenormalized },
  // Stop 53: a Split's or Replace's `(?i:…)` group holding k folds it with the Kelvin sign U+212A, as Oniguruma does,
  // where version 12's class held K twice (NFC had made its Kelvin sign a K).
  { version: 20, changed: (t) => t.caseFoldKelvin },
  // Stop 53: a WordLevel, WordPiece or BPE model whose unk_token its vocabulary lacks refuses a text holding a piece it
  // does not know, as tokenizers fails on it, where the piece was read as another id (an [UNK] or <unk> the vocabulary
  // holds, else 0): its points are stale (recomputed with --rerun-stale, which fails saying so where a text needs it).
  { version: 21, changed: (t) => t.unkTokenMissing },
  // Stop 53: a model's piece whose text is a single_word added token's normalized text (the piece 'hello' of 'hellotok'
  // under a lower-cased single_word 'Hello') is the model's id, as tokenizers gives it, where the added token's was read.
  { version: 22, changed: (t) => t.addedPiecesApart },
  // Stop 53: a sentence pair past the length is truncated as tokenizers 0.23 does (each text counted only up to the
  // split at which it reaches max_length, the text counted longer taking the odd token), where the longer text took it:
  // every pair task may change where both texts pass max_length, which no trait of the tokenizer tells.
  { version: 23, changed: (_t, pairs) => pairs },
  // Stop 53: a model's piece whose text is an added token's content the model lacks (a WordLevel's word 'tok' of a text
  // 'TOK' lower-cased, which an added token 'tok' of normalized false is not found in; a Unigram's unknown 'z' alike; a
  // missing unk_token that is an added token) is the unknown token, or refused where the model lacks that too, as
  // tokenizers gives it, where the added token's id was read.
  { version: 24, changed: (t) => t.unlistedAddedPieces },
  // Stop 53: a Metaspace of prepend_scheme first puts its ▁ before a text starting the text given that the normalizer
  // turns into an added token's content of normalized false ('A' lower-cased under an added 'a'), which tokenizers does
  // not find there, where the text was taken for the token and got none.
  { version: 25, changed: (t) => t.metaspaceFirstAdded },
  // Stop 54: an added token of normalized false whose content is another added token's normalized text (an unnormalized
  // '[x]' beside a normalized '[X]' under a Lowercase) is its own id where the text holds it as written, as tokenizers
  // gives it, where the normalized one's was read; two added tokens of normalized true normalized to one text, which
  // tokenizers finds as either from run to run, are refused (their points stale, recomputed with --rerun-stale, which
  // fails saying so).
  { version: 26, changed: (t) => t.addedTextsShared },
  // Stop 54: a Precompiled normalizer (a SentencePiece model's: XLM-R's, ALBERT's, T5's, and folders of a SentencePiece
  // model alone) normalizes by its precompiled_charsmap, grapheme by grapheme, as tokenizers does, where
  // @huggingface/tokenizers applied NFKC and its own rules for spaces and controls whatever the charsmap said (a tab, 'ﬁ'
  // and '①' kept by a charsmap that maps nothing): every such tokenizer's points go stale, though the nmt_nfkc charsmap
  // these models ship gives most texts what NFKC gave.
  { version: 27, changed: (t) => t.precompiledCharsmap },
  // Stop 54: a Metaspace pre-tokenizer that splits in a Sequence within a Sequence splits its text before each ▁ and
  // runs the model on each piece alone, as tokenizers does at any depth (version 3's change), where it was one
  // pre-token: a piece holding ▁ matched across two words, unknown words side by side fused into one unknown token.
  { version: 28, changed: (t) => t.nestedMetaspaceSplit },
  // Stop 55: a tokenizer.json's BertNormalizer loaded as BertTokenizer, DistilBertTokenizer or ElectraTokenizer (Fast or
  // not; named by tokenizer_config.json or config.json, or config.json's model_type) takes the class's defaults for
  // what tokenizer_config.json leaves out (do_lower_case true, strip_accents none, tokenize_chinese_chars true), as
  // transformers' fast tokenizers rebuild it on loading, where the file's own settings were read: a cased tokenizer.json
  // beside a config naming no do_lower_case (or no tokenizer_config.json) now lower-cases.
  { version: 29, changed: (t) => t.configNormalizerDefaults },
  // Stop 55: a tokenizer.json's BertNormalizer loaded as PreTrainedTokenizerFast (tokenizer_class) is the file's, as
  // transformers reads it (no model's class to rebuild it), where tokenizer_config.json's do_lower_case, strip_accents
  // and tokenize_chinese_chars were applied to it.
  { version: 30, changed: (t) => t.configNormalizerUnread },
  // Stop 55: the same as version 29 for a tokenizer loaded as MobileBertTokenizer, SqueezeBertTokenizer,
  // FunnelTokenizer, LayoutLMTokenizer or ConvBertTokenizer (Fast or not), whose 4.x fast tokenizers rebuild the
  // BertNormalizer as BertTokenizerFast does, where the config's settings were read over the file's.
  { version: 31, changed: (t) => t.configNormalizerLaterClasses },
  // Stop 55: the same for a tokenizer loaded as a DPR tokenizer, RealmTokenizer, LxmertTokenizer or RetriBertTokenizer
  // (BertTokenizerFasts, or copies of its __init__, in transformers 4.x), and for a folder naming no tokenizer class
  // whose config.json's model_type loads one of those classes, the classes above or BertTokenizerFast (ernie,
  // megatron-bert, nezha, mobilebert, squeezebert, funnel, layoutlm, convbert, dpr …: LATER_MODEL_TYPE_TOKENIZERS),
  // read before with the config's settings, else the file's, as no class known.
  { version: 32, changed: (t) => t.configNormalizerMoreClasses },
  // Stop 56: a pair's tokens are all of type 0 where the tokenizer is loaded as DPRReaderTokenizer or
  // RetriBertTokenizer (Fast or not, named or by config.json's model_type retribert), whose model_input_names in
  // transformers 4.x lack token_type_ids (their models take none), as transformers feeds the model, where the
  // template's were fed (a BERT template's second text type 1).
  { version: 33, changed: (t, pairs) => pairs && t.typesNotReturnedLaterClasses },
  // Stop 56: an ALBERT SentencePiece model read (no tokenizer.json) takes tokenizer_config.json's do_lower_case and
  // keep_accents by Python's truthiness, as transformers' AlbertConverter does (a null, 0, '' or [] do_lower_case keeps
  // case; a "false" or 1 keep_accents keeps accents), where a value other than true or false was read as
  // do_lower_case true and keep_accents false.
  { version: 34, changed: (t) => t.albertSettingsTruthiness },
  // Stop 56: a folder of vocab.txt alone loaded as FunnelTokenizer (named, or by config.json's model_type funnel) gives
  // [CLS] token type 2, as transformers' FunnelConverter writes its template (`{cls}:2`) and the slow FunnelTokenizer's
  // cls_token_type_id gives it, where it was type 0 (BertConverter's template): single texts and pairs.
  { version: 35, changed: (t) => t.funnelClsType },
  // Stop 57: a vocab.txt read ends a line at a lone '\r' too, as transformers' load_vocab reads the file (readlines() in
  // Python's universal newlines mode), where the '\r' was part of its token: every later token had another id.
  { version: 36, changed: (t) => t.vocabLoneCarriageReturn },
  // Stop 57: a folder whose tokenizer files (tokenizer.json, vocab.txt, vocab.json, merges.txt, a SentencePiece model's
  // pieces, tokenizer_config.json, special_tokens_map.json, config.json) hold bytes that are not UTF-8 is refused in one
  // line, as transformers fails to read them, where those bytes were read as U+FFFD: its points are stale (recomputed
  // with --rerun-stale, which fails saying which file and where).
  { version: 37, changed: (t) => t.notUtf8 },
  // Stop 57: a tokenizer loaded as MPNetTokenizer (Fast or not; named, or by config.json's model_type mpnet) is read as
  // transformers reads it: a vocab.txt as MPNetConverter writes it (a pair's texts split by two separators, MPNet's
  // special tokens <s>, </s>, <pad>, <mask> for those tokenizer_config.json leaves out, the mask token taking the spaces
  // before it), and no token types (its model_input_names: every token type 0), where it was read as BERT's.
  { version: 38, changed: (t, pairs) => t.mpnetClass.single || (pairs && t.mpnetClass.pair) },
  // Stop 57: a tokenizer.json's BertNormalizer loaded as MPNetTokenizer takes do_lower_case (true) and strip_accents
  // (none) of the class's defaults where tokenizer_config.json leaves them out, as 4.x's MPNetTokenizerFast rebuilds it
  // (its tokenize_chinese_chars unread: the file's kept), where the config's settings, else the file's, were read.
  { version: 39, changed: (t) => t.configNormalizerMpnet },
  // Stop 58: a folder of vocab.json and merges.txt (no tokenizer.json) reads merges.txt as transformers 4.x's
  // RobertaTokenizer and GPT2Tokenizer do (`read().split("\n")[1:-1]` in universal newlines mode, each line's
  // `split()`, a merge listed twice at its first place, as RobertaConverter builds the BPE): the first line dropped
  // whatever it holds, the last where no newline ends the file, a lone '\r' ending a line, words split at any of
  // Python's whitespace; a line that is not two tokens (an empty one) or a merge of tokens vocab.json lacks is refused,
  // as transformers fails to load it, where it was skipped or read: its points are stale.
  { version: 40, changed: (t) => t.bpeMerges },
];

/** A folder's tokenizer as last read: its side files' sha256 by name, its traits. */
interface ReadFolder {
  hashes: Record<string, string>;
  traits: TokenizerTraits | undefined;
}

/** The folders read, each kept while its side files' stamp holds (sideFilesKeeper, loadTokenizer's: every folder read). */
const folders = sideFilesKeeper<ReadFolder>(Number.POSITIVE_INFINITY);

/**
 * `dir`'s tokenizer traits and side files' hashes, read again only where its side files' stamp changed or it has none
 * (sideFilesStamp, loadTokenizer's rule: a file changed within the last 2 s is read each time, since a rewrite within
 * the file system's time granularity keeps its size and times); the hashes by keptSha256Sync (not again where this
 * process hashed the file as it is, a sweep's plan for its key).
 */
function readFolder(dir: string): ReadFolder {
  return folders(dir, () => {
    const hashes: Record<string, string> = {};
    for (const name of sideFilesRead((n) => existsSync(join(dir, n)))) {
      try {
        hashes[name] = keptSha256Sync(join(dir, name));
      } catch {
        // (none there, or unreadable: not held)
      }
    }
    return { hashes, traits: tokenizerTraits(dir) };
  });
}

/**
 * The reading version of the tokenizer in `dir` (the last version whose change touched it, else 1); undefined where the
 * folder holds no tokenizer this code reads (gone, or none), or where `planned` (the sha256 of its side files by name,
 * as a plan hashed them) is given and its side files no longer hash so (edited since: what the code reads now is
 * another tokenizer's reading, not the planned one's).
 */
export function tokenizerReadingVersion(dir: string, pairs: boolean, planned?: Readonly<Record<string, unknown>>): number | undefined {
  const { hashes, traits } = readFolder(dir);
  if (traits === undefined) return undefined;
  if (planned !== undefined && sideFilesRead((name) => name in hashes).some((name) => planned[name] !== hashes[name])) return undefined;
  let version = 1;
  for (const r of TOKENIZER_READINGS) if (r.changed(traits, pairs)) version = Math.max(version, r.version);
  return version;
}

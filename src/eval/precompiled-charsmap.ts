/**
 * A Precompiled normalizer's precompiled_charsmap as tokenizers reads it (spm_precompiled: base64 of a little-endian
 * u32 trie size in bytes, that many bytes of the trie's u32 units, then the normalized text, UTF-8), where
 * @huggingface/tokenizers never reads it (it applies NFKC).
 */

/** Whether base64 text `s` decodes as tokenizers' base64 decoder reads it (padding optional, no trailing bits, no spaces). */
function decodesAsBase64(s: string): boolean {
  const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(s);
  if (!m) return false;
  const [, data, pad] = m as unknown as [string, string, string];
  const rest = data.length % 4;
  if (rest === 1 || (pad.length > 0 && (rest === 0 || rest + pad.length > 4))) return false;
  if (rest === 0) return true;
  // (the last character's bits past the last whole byte are zero)
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(data.at(-1)!);
  return (last & (rest === 2 ? 0xf : 0x3)) === 0;
}

/** A double-array unit's offset to its children (spm_precompiled's ArrayUnitTrait::offset). */
const unitOffset = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

/** The first byte of each UTF-8 character but NUL, where a text's every grapheme starts its walk of the trie. */
const FIRST_BYTES = [...Array.from({ length: 0x7f }, (_, i) => i + 1), ...Array.from({ length: 0xf4 - 0xc2 + 1 }, (_, i) => i + 0xc2)];

/**
 * What keeps tokenizers from reading a precompiled_charsmap (`base64`), in words: what it refuses at load ("Cannot
 * parse precompiled_charsmap": not base64, fewer than 4 bytes, a trie size past its bytes, normalized text that is not
 * UTF-8), and a trie it reads and then fails on (an index out of bounds that aborts): one of no unit (every text), one
 * that ends before the unit a character's first byte reads (every text holding such a character); undefined for none.
 */
export function charsmapProblem(base64: string): string | undefined {
  if (!decodesAsBase64(base64)) return `not base64 as tokenizers decodes it (${JSON.stringify(base64.slice(0, 20))}) (tokenizers refuses it)`;
  const bytes = Buffer.from(base64, 'base64');
  const cannot = '(tokenizers refuses it: Cannot parse precompiled_charsmap)';
  if (bytes.length < 4) return `${bytes.length} bytes, fewer than the 4 of its trie's size ${cannot}`;
  const units = Math.floor(bytes.readUInt32LE(0) / 4);
  if (4 + 4 * units > bytes.length) return `its trie's size is ${bytes.readUInt32LE(0)} bytes, but ${bytes.length - 4} follow it ${cannot}`;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4 + 4 * units));
  } catch {
    return `the normalized text after its trie is not UTF-8 ${cannot}`;
  }
  if (units === 0) return 'its trie holds no unit (tokenizers reads it, then fails on every text)';
  const base = unitOffset(bytes.readUInt32LE(4));
  const past = FIRST_BYTES.find((c) => (base ^ c) >= units);
  if (past === undefined) return undefined;
  const hex = `0x${past.toString(16).toUpperCase().padStart(2, '0')}`;
  return `its trie of ${units} units ends before the unit a character's first byte ${hex}${past < 0x80 ? ` (${JSON.stringify(String.fromCharCode(past))})` : ''} reads (tokenizers reads it, then fails on every text holding such a character)`;
}

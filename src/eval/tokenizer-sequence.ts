/**
 * The one walk of a tokenizer.json component's Sequences (a normalizer's, pre-tokenizer's, post-processor's or
 * decoder's, nested at any depth as tokenizers reads them), apart from tokenizer.ts so that tokenizer-fields.ts, which
 * it imports, walks them too.
 */

/** The key of a Sequence's parts in each component. */
export type SequenceList = 'pretokenizers' | 'normalizers' | 'decoders' | 'processors';

/**
 * A tokenizer.json component (`list`: the key of a Sequence's parts, `pretokenizers`, `normalizers`, `decoders` or
 * `processors`) with each of its leaves (the parts of its Sequences at any depth, in order, else the component itself;
 * `{}` for a null one) replaced by what `f` gives of it and its path (its index in each Sequence down to it, [] for the
 * component itself): the one walk of a component's Sequences. `part` itself where `f` gives every leaf back.
 */
export function mapSequenceLeaves(
  part: unknown,
  list: SequenceList,
  f: (leaf: Record<string, unknown>, path: number[]) => unknown,
  path: number[] = [],
): unknown {
  const p = (part ?? {}) as Record<string, unknown>;
  if (p.type !== 'Sequence' || !Array.isArray(p[list])) {
    const out = f(p, path);
    return out === p ? part : out;
  }
  const parts = p[list] as unknown[];
  const mapped = parts.map((q, i) => mapSequenceLeaves(q, list, f, [...path, i]));
  return mapped.every((q, i) => q === parts[i]) ? part : { ...p, [list]: mapped };
}

/** A tokenizer.json component's leaves with their paths (mapSequenceLeaves of `list`), in order. */
export function sequenceLeaves(part: unknown, list: SequenceList): Array<{ leaf: Record<string, unknown>; path: number[] }> {
  const out: Array<{ leaf: Record<string, unknown>; path: number[] }> = [];
  mapSequenceLeaves(part, list, (leaf, path) => {
    out.push({ leaf, path });
    return leaf;
  });
  return out;
}

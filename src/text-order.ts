/**
 * The one order of names shown sorted (a report's rows by model and label, the teacher-size chart's points and
 * tables, inspect's operators and weight formats): English collation, then code units where it ties two different
 * texts (a composed and a decomposed é), never the process's locale. localeCompare follows LANG: the same store
 * reported under LANG=sv_SE put a model 'ärlig' after 'zeta', under LANG=en_US before it.
 */
const english = new Intl.Collator('en');

/** `a` against `b` in the one order of names (see the module comment): negative, 0 (the same text) or positive. */
export function compareText(a: string, b: string): number {
  return english.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

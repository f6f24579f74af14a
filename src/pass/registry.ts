/** Passes register themselves here by name; the pipeline, CLI and sweep look them up. */
import { choiceRefusal, quotedText, SettingsError } from '../errors.ts';
import type { Pass } from './pass.ts';

const passes = new Map<string, Pass<unknown>>();

/** A pass name as steps, sweep labels, lineage and `compress passes` show it: one word. */
const PASS_NAME = /^[A-Za-z0-9][\w.-]*$/;

export function registerPass<O>(pass: Pass<O>): void {
  // (a name '' or 'my pass' was taken: a label 'my pass 0.5' reads as other settings, and a refusal listing the
  // passes showed 'expected one of , drop-layers, …')
  if (typeof pass?.name !== 'string' || !PASS_NAME.test(pass.name))
    throw new SettingsError(
      `registerPass: name ${typeof pass?.name === 'string' ? quotedText(pass.name) : String(pass?.name)}: a pass name is one word of letters, digits, '-', '_' and '.', starting with a letter or digit (steps, sweep labels and lineage show it)`,
    );
  if (passes.has(pass.name)) throw new Error(`pass ${quotedText(pass.name)} is registered twice`);
  passes.set(pass.name, pass as Pass<unknown>);
}

export function getPass(name: string): Pass<unknown> {
  const p = passes.get(name);
  if (p) return p;
  // (none registered: src/passes.ts's registerAllPasses, which the package's entry calls, was not run)
  if (passes.size === 0) throw new SettingsError(`pass ${quotedText(name)}: no pass is registered (registerAllPasses)`);
  // (the words of every value outside its choices, its kind after them: a library caller gives it)
  throw new SettingsError(choiceRefusal('pass', name, passNames(), { from: 'code' }));
}

export function passNames(): string[] {
  return [...passes.keys()].sort();
}

/** Passes register themselves here by name; the pipeline, CLI and sweep look them up. */
import { quotedText, SettingsError } from '../errors.ts';
import type { Pass } from './pass.ts';

const passes = new Map<string, Pass<unknown>>();

export function registerPass<O>(pass: Pass<O>): void {
  if (passes.has(pass.name)) throw new Error(`pass ${quotedText(pass.name)} is registered twice`);
  passes.set(pass.name, pass as Pass<unknown>);
}

export function getPass(name: string): Pass<unknown> {
  const p = passes.get(name);
  if (!p) {
    const names = [...passes.keys()].sort();
    throw new SettingsError(`unknown pass ${quotedText(name)} (known: ${names.join(', ') || 'none'})`);
  }
  return p;
}

export function passNames(): string[] {
  return [...passes.keys()].sort();
}

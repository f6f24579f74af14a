/**
 * Registers every compression pass with the registry, once. The CLI and the sweep call this, and so does the
 * library's `passes` entry point (src/pass/index.ts, which the package's root re-exports) when it is imported.
 */
import { registerPass, passNames } from './pass/registry.ts';
import type { Pass } from './pass/pass.ts';
import { pruneHeadsPass, pruneFfnPass, dropLayersPass } from './prune/index.ts';
import { factorizeEmbeddingsPass } from './factorize/index.ts';
import { shareLayersPass } from './share/index.ts';
import { quantizePass } from './quantize/index.ts';
import { optimizePass } from './optimize/index.ts';

export const ALL_PASSES: ReadonlyArray<Pass<any>> = [
  pruneHeadsPass,
  pruneFfnPass,
  dropLayersPass,
  factorizeEmbeddingsPass,
  shareLayersPass,
  quantizePass,
  optimizePass,
];

export function registerAllPasses(): void {
  for (const p of ALL_PASSES) if (!passNames().includes(p.name)) registerPass(p);
}

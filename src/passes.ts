/**
 * Registers every compression pass with the registry, once. The CLI and the sweep call this; library users who
 * want a single pass can import it directly from its folder instead.
 */
import { registerPass, passNames } from './pass/registry.ts';
import { pruneHeadsPass, pruneFfnPass, dropLayersPass } from './prune/index.ts';

let done = false;

export function registerAllPasses(): void {
  if (done) return;
  done = true;
  for (const p of [pruneHeadsPass, pruneFfnPass, dropLayersPass]) if (!passNames().includes(p.name)) registerPass(p as never);
}
